"""The simulator's device stores: memory, SQLite and PostgreSQL give the same run.

The PostgreSQL cases need psycopg and a server (``AXOLOTL_TEST_PG_DSN``, see
``tests/store_fixtures.py``) and skip without them; each runs in a fresh
schema of its own. The rest need neither.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from axolotl.cli import main
from axolotl.errors import StorageError, UsageError
from axolotl.simulate import SimulationConfig, simulate
from axolotl.simulate.network import Network
from axolotl.simulate.stores import MemoryStores, PostgresStores, SQLiteStores, new_run_id
from tests.store_fixtures import pg_schema_dsn, require_psycopg

INCIDENTS: dict[str, Any] = {
    "messages": 120,
    "wipe": 2,
    "reinstall": 1,
    "crash": 3,
    "loss": 0.1,
    "corrupt": 0.1,
    "dup": 0.1,
}


@pytest.fixture
def dsn(tmp_path: Path) -> str:
    """A DSN onto a fresh, empty schema of its own."""
    return pg_schema_dsn(tmp_path, fresh=True)


def _simulation_owners(dsn: str) -> list[str]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT owner FROM axolotl_local_identity WHERE owner LIKE 'simulate-%' ORDER BY owner"
        ).fetchall()
    return [r[0] for r in rows]


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    report.pop("timing")
    report["config"] = {k: v for k, v in report["config"].items() if k != "store"}
    return report


def test_postgres_run_reports_exactly_what_the_sqlite_run_does(dsn: str) -> None:
    on_sqlite = simulate(SimulationConfig(**INCIDENTS))
    on_postgres = simulate(SimulationConfig(**INCIDENTS, store="postgres", dsn=dsn))
    assert on_postgres.ok, on_postgres.lost + on_postgres.wrong + on_postgres.over_budget
    assert on_postgres.crashes == 3 and on_postgres.sessions_rebuilt >= 1
    assert on_postgres.config["store"] == "postgres"
    assert "dsn" not in on_postgres.config  # where the data went is not part of the report
    assert _comparable(on_postgres.to_dict()) == _comparable(on_sqlite.to_dict())
    assert _simulation_owners(dsn) == [], "a run deletes its rows unless kept"


def test_kept_runs_never_share_owners(dsn: str) -> None:
    first = SimulationConfig(messages=10, store="postgres", dsn=dsn, keep=True, run_id="one")
    assert simulate(first).ok
    assert simulate(SimulationConfig(messages=10, store="postgres", dsn=dsn, keep=True)).ok
    owners = _simulation_owners(dsn)
    ones = [o for o in owners if o.startswith("simulate-one-")]
    # 3 devices each run; the second run's owners carry a generated run id.
    assert len(ones) == 3 and len(owners) == 6
    assert new_run_id() != new_run_id()


def test_postgres_stores_delete_every_incarnation_on_close(dsn: str) -> None:
    stores = PostgresStores(dsn, run_id="close")
    net = Network(["a", "b"], seed=1, stores=stores)
    net.reinstall("a")  # a second incarnation of a: a second owner
    net.send("a", ["b"], b"hi")
    net.restart("b")
    net.run()
    assert len(stores.owners) == 3 and len(_simulation_owners(dsn)) == 3
    net.close()
    assert _simulation_owners(dsn) == []


def test_unreachable_database_is_a_storage_error_at_once() -> None:
    require_psycopg()
    with pytest.raises(StorageError, match="check that the server is running"):
        PostgresStores("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_restart_and_crashes_need_persistent_stores(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="persistent"):
        Network(["a", "b"], stores=MemoryStores(), crash_at=[5])
    net = Network(["a", "b"], stores=MemoryStores())
    with pytest.raises(UsageError, match="persistent"):
        net.restart("a")
    net.close()
    net = Network(["a", "b"], stores=SQLiteStores(tmp_path))
    net.restart("a")
    net.close()
    assert len(list(tmp_path.glob("*.db"))) == 2, "a given folder is left as it is"


@pytest.mark.parametrize(
    "config",
    [
        {"store": "postgres"},
        {"store": "postgres", "dsn": "postgresql://x", "db_dir": Path("x")},
        {"dsn": "postgresql://x"},
        {"keep": True},
        {"run_id": "r"},
        {"store": "mysql"},
    ],
)
def test_store_options_that_do_not_go_together(config: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        SimulationConfig(**config)


def test_cli_on_postgres(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--messages", "30", "--store", "postgres", "--dsn", dsn]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["config"]["store"] == "postgres"
    assert main([*args, "--keep"]) == 0
    out = capsys.readouterr()
    assert "postgres stores" in out.out
    (kept,) = {o.rsplit("-", 3)[0] for o in _simulation_owners(dsn)}
    assert f"owners '{kept}-*'" in out.err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--store", "postgres"], "needs a DSN"),
        (["--dsn", "postgresql://x"], "postgres store"),
        (["--keep"], "keep"),
        (
            ["--store", "postgres", "--dsn", "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2"],
            "cannot connect",
        ),
    ],
)
def test_cli_store_errors_exit_2_saying_why(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--dsn" in args and "postgres" in args:
        require_psycopg()  # without it the error is the missing extra (tests/test_simulate.py)
    assert main(["simulate", "--messages", "5", *args]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1  # libpq's message has a newline of its own
