"""``axolotl simulate``: the report, its determinism, exit codes and options."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from axolotl.cli import main
from axolotl.errors import UsageError
from axolotl.simulate import SimulationConfig, simulate
from axolotl.simulate.device import Faults
from axolotl.simulate.network import Network
from axolotl.simulate.stores import SQLiteStores
from axolotl.simulate.text import render


def _small(**kw: object) -> SimulationConfig:
    return SimulationConfig(messages=120, **kw)  # type: ignore[arg-type]


def test_default_faults_deliver_exactly_once() -> None:
    r = simulate(_small())
    assert r.ok and r.exactly_once
    assert r.sent == 120 and r.delivered == r.copies
    assert r.receipts_sent > 0 and r.resends > 0
    assert r.latency_ms["median"] <= r.latency_ms["p99"] <= r.latency_ms["max"]


def test_same_seed_same_report() -> None:
    a = simulate(_small(seed=7)).to_dict()
    b = simulate(_small(seed=7)).to_dict()
    a.pop("timing")
    b.pop("timing")
    assert a == b
    c = simulate(_small(seed=8)).to_dict()
    c.pop("timing")
    assert c != a


def test_every_incident_kind_at_once() -> None:
    r = simulate(_small(wipe=2, reinstall=1, crash=3, loss=0.1, corrupt=0.1, dup=0.1))
    assert r.ok, r.lost + r.wrong + r.over_budget
    assert r.crashes == 3
    assert r.sessions_rebuilt >= 1


def test_bad_options() -> None:
    with pytest.raises(UsageError):
        SimulationConfig(devices=1)
    with pytest.raises(UsageError):
        SimulationConfig(loss=1.5)
    assert main(["simulate", "--devices", "1"]) == 2


def test_cli_json_and_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["simulate", "--messages", "40", "--json", "--db-dir", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["sent"] == 40
    assert any(tmp_path.glob("*.db")), "--db-dir keeps the databases"
    assert main(["simulate", "--messages", "40", "--db-dir", str(tmp_path)]) == 2
    assert "already holds databases" in capsys.readouterr().err
    assert main(["simulate", "--messages", "40"]) == 0
    out = capsys.readouterr()
    assert "exactly once:      yes" in out.out
    # Progress is drawn on a terminal only (tests/test_simulate_display.py); it
    # used to print a "sent N/M messages" line every 10% into pipes and logs.
    assert out.err == ""


def test_plot_without_matplotlib_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert main(["simulate", "--messages", "20", "--plot", str(tmp_path / "p.png")]) == 2
        assert "matplotlib" in capsys.readouterr().err
    else:
        assert main(["simulate", "--messages", "20", "--plot", str(tmp_path / "p.png")]) == 0
        assert (tmp_path / "p.png").stat().st_size > 1000


def test_postgres_without_the_extra_is_a_clear_error() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None\n"
        "from axolotl.cli import main\n"
        "sys.exit(main(['simulate', '--store', 'postgres', '--dsn', 'postgresql://x']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'axolotl-retry[postgres]'" in done.stderr


def test_whatsapp_framing_survives_every_incident_kind() -> None:
    r = simulate(_small(framing="whatsapp", wipe=2, reinstall=1, crash=3, corrupt=0.1, dup=0.1))
    assert r.ok, r.lost + r.wrong + r.over_budget
    assert r.config["framing"] == "whatsapp"
    native = simulate(_small(wipe=2, reinstall=1, crash=3, corrupt=0.1, dup=0.1))
    # Padding draws from the same randomness: another trajectory, same guarantees.
    assert native.ok and native.to_dict()["config"]["framing"] == "native"


def test_the_network_puts_the_framing_on_every_layer() -> None:
    from axolotl.framing import WhatsAppFraming, conversation

    net = Network(["a", "b"], framing=WhatsAppFraming())
    try:
        assert all(isinstance(d.layer.framing, WhatsAppFraming) for d in net.devices.values())
        with pytest.raises(UsageError):  # not a serialized WhatsApp Message
            net.send("a", ["b"], b"\xff plain bytes")
        mid = net.send("a", ["b"], conversation("hello"))
        net.run()
        delivered = net.devices[net.address("b")].delivered
        assert delivered[(net.address("a"), mid)] == conversation("hello")
    finally:
        net.close()


def _backlog_run(batch: bool, crash_at: tuple[int, ...] = ()) -> tuple[Network, list[object]]:
    """Bob is away while alice and carol send, with faults; then he comes back."""
    stores = SQLiteStores() if crash_at else None
    faults = Faults(drop=0.05, corrupt=0.1, duplicate=0.05, min_delay_ms=10, max_delay_ms=60)
    net = Network(
        ["alice", "bob", "carol"], seed=5, faults=faults, batch=batch, crash_at=crash_at,
        stores=stores,
    )  # fmt: skip
    net.disconnect("bob")
    for i in range(30):
        src = "alice" if i % 2 else "carol"
        net.send(src, ["bob"], f"while away {i}".encode())
        net.run(until_ms=net.now + 20)
    net.reconnect("bob")
    net.faults = Faults()
    net.run()
    bob = net.devices[net.address("bob")]
    return net, sorted(bob.delivered.items(), key=lambda kv: str(kv[0]))  # type: ignore[arg-type]


def test_a_device_back_online_takes_its_backlog_in_one_batch_with_the_same_outcome() -> None:
    batched, delivered = _backlog_run(batch=True)
    singly, delivered_singly = _backlog_run(batch=False)
    try:
        assert delivered == delivered_singly and len(delivered) == 30
        for net in (batched, singly):
            assert net.lost() == [] and net.wrong() == [] and net.violations == []
    finally:
        batched.close()
        singly.close()


def test_a_crash_inside_a_backlog_batch_loses_and_doubles_nothing() -> None:
    # The batch of 27 held stanzas runs from store write 244 on: write 300
    # crashes inside it (all of it undone, handed over again), 420 after it.
    for crash_at in ((300,), (420,)):
        net, delivered = _backlog_run(batch=True, crash_at=crash_at)
        try:
            assert [kind for _, kind in net.incidents].count("crash") == 1, crash_at
            assert len(delivered) == 30, crash_at
            assert net.lost() == [] and net.wrong() == [] and net.violations == []
        finally:
            net.close()


def test_offline_periods_end_in_one_batch_each_with_the_report_of_one_call_each() -> None:
    config = SimulationConfig(messages=400, offline=3, seed=3)
    batched = simulate(config)
    singly = simulate(dataclasses.replace(config, batch=False))
    assert batched.ok and singly.ok
    ours, theirs = batched.to_dict(), singly.to_dict()
    for report in (ours, theirs):
        report.pop("timing")
        report["config"].pop("batch")
    assert ours == theirs
    assert "3 offline periods" in render(batched)
