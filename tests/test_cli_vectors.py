"""``axolotl vectors verify``: the table, mismatches (exit 1) and malformed files (exit 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from axolotl.cli import main
from axolotl.testvectors import default_vector_dir

VECTORS = default_vector_dir()
PAIRWISE = "transcript_pairwise.json"


def _verify(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["vectors", "verify", "--dir", str(directory)])
    out = capsys.readouterr()
    return status, out.out + out.err


def _copy(tmp_path: Path, name: str = PAIRWISE) -> Path:
    target = tmp_path / name
    shutil.copy(VECTORS / name, target)
    return target


def _edit(path: Path, index: int, **changes: object) -> None:
    doc = json.loads(path.read_text())
    doc["cases"][0]["steps"][index].update(changes)
    path.write_text(json.dumps(doc))


def test_every_committed_vector_passes(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _verify(VECTORS, capsys)
    assert status == 0, out
    for name in sorted(p.name for p in VECTORS.glob("transcript_*.json")):
        assert any(line.startswith(name) and line.endswith("ok") for line in out.splitlines())


def test_a_mismatch_names_file_step_and_byte_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(tmp_path)
    doc = json.loads(path.read_text())
    step = doc["cases"][0]["steps"][4]  # alice's first encrypt
    body = bytearray(bytes.fromhex(step["expect"]["body"]))
    body[7] ^= 0x10
    step["expect"]["body"] = body.hex()
    path.write_text(json.dumps(doc))
    status, out = _verify(tmp_path, capsys)
    assert status == 1, out
    (line,) = [x for x in out.splitlines() if x.startswith("FAIL ")]
    assert PAIRWISE in line and "pairwise_session" in line
    assert "step 5 (encrypt)" in line and "first differing byte at offset 7" in line


def test_a_truncated_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _copy(tmp_path)
    path.write_text(path.read_text()[:5000])
    status, out = _verify(tmp_path, capsys)
    assert status == 2, out
    assert f"MALFORMED {PAIRWISE}" in out and "not readable JSON" in out


def test_a_wrong_hex_field_exits_2_naming_the_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(tmp_path)
    _edit(path, 5, plaintext="not hex")
    status, out = _verify(tmp_path, capsys)
    assert status == 2, out
    assert f"MALFORMED {PAIRWISE}" in out
    assert "step 6 (encrypt): field 'plaintext' is not hex" in out


def test_an_unknown_step_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(tmp_path)
    _edit(path, 2, op="reticulate_splines")
    status, out = _verify(tmp_path, capsys)
    assert status == 2, out
    assert "step 3 (reticulate_splines): unknown op" in out


def test_malformed_wins_over_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _copy(tmp_path)
    _edit(good, 4, plaintext="00")  # a mismatch
    broken = _copy(tmp_path, "transcript_group.json")
    broken.write_text("{")
    status, out = _verify(tmp_path, capsys)
    assert status == 2, out
    assert "FAIL transcript_pairwise.json" in out and "MALFORMED transcript_group.json" in out


def test_an_empty_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _verify(tmp_path, capsys)
    assert status == 2
    assert "no vector files" in out


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["vectors", "verify", "--help"])
    out = capsys.readouterr().out
    assert "exit status" in out and "malformed" in out
