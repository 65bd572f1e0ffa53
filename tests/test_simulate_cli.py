"""``axolotl simulate`` on bad input: one line, exit 2, before any work; Ctrl-C: one line, 130.

"Before any work" is checked by what did not happen: no report on stdout,
and no database in a folder the run would have used.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from axolotl.cli import main


def _bad(tmp_path: Path) -> list[tuple[list[str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return [
        (["--devices", "1"], "--devices must be in 2..999"),
        (["--devices", "two"], "argument --devices: invalid int value"),
        (["--loss", "1.5"], "--loss must be a probability"),
        (["--crash", "-1"], "--crash must be at least 0"),
        (["--store", "mysql"], "invalid choice"),
        (["--framing", "xmpp"], "invalid choice"),
        (["--keep"], "--keep is for the postgres store"),
        (["--no-such-option"], "unrecognized arguments"),
        (["--db-dir", str(a_file)], "is not a folder"),
        (["--db-dir", str(a_file / "below")], "cannot use the folder"),
        (["--plot", str(tmp_path / "missing" / "p.png")], "does not exist"),
        (["--plot", str(tmp_path / "p.txt")], "must end in .png"),
        (["--plot", str(tmp_path)], "must end in .png"),
    ]


def test_every_bad_option_is_one_line_and_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, says in _bad(tmp_path):
        assert main(["simulate", "--messages", "5", *args]) == 2, args
        out, err = capsys.readouterr()
        assert out == "", args
        assert err.count("\n") == 1 and err.startswith("axolotl"), (args, err)
        assert says in err, (args, err)
    assert not list(tmp_path.rglob("*.db"))


def test_run_id_is_not_named_to_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--keep"]) == 2
    assert "run_id" not in capsys.readouterr().err


def test_the_db_dir_is_created_and_then_must_be_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "new" / "dbs"
    assert main(["simulate", "--messages", "5", "--json", "--db-dir", str(folder)]) == 0
    assert list(folder.glob("*.db"))
    capsys.readouterr()
    assert main(["simulate", "--messages", "5", "--db-dir", str(folder)]) == 2
    assert "already holds databases" in capsys.readouterr().err


def _run_cli(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_plot_without_matplotlib_fails_before_the_run(tmp_path: Path) -> None:
    plot = tmp_path / "p.png"
    done = _run_cli(
        "import sys; sys.modules['matplotlib'] = None\n"
        "from axolotl.cli import main\n"
        f"sys.exit(main(['simulate', '--messages', '5', '--plot', {str(plot)!r}]))"
    )
    assert done.returncode == 2
    assert done.stdout == ""  # no run, no report thrown away
    assert done.stderr == (
        "axolotl simulate: --plot needs matplotlib: pip install 'axolotl-retry[plot]'\n"
    )


def test_ctrl_c_is_one_line_and_exit_130() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "axolotl", "simulate", "--messages", "100000", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)  # into the run (the imports and set-up take well under a second)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == ""
    assert err == "axolotl simulate: interrupted\n"


def test_an_internal_error_is_one_line_and_not_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import axolotl.cli.simulate as cli

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the network did not settle\nsecond line")

    monkeypatch.setattr(cli, "simulate", broken)
    assert main(["simulate", "--messages", "5"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error: RuntimeError: the network did not settle second line" in err
