"""One test case per vector in every shipped vector file (``axolotl/testvectors/data/``)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from axolotl.testvectors import check_case, default_vector_dir, iter_vector_files, load

ROOT = Path(__file__).resolve().parents[1]
VECTOR_DIR = default_vector_dir()


def _cases() -> list[pytest.param]:  # type: ignore[valid-type]
    params = []
    for path in iter_vector_files(VECTOR_DIR):
        vf = load(path)
        for i, case in enumerate(vf.cases):
            cid = f"{path.stem}[{case.get('name', i)}]"
            params.append(pytest.param(vf.kind, case, id=cid))
    return params


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_vector(kind: str, case: dict[str, object]) -> None:
    check_case(kind, case)


def test_every_file_has_provenance_and_a_generator_or_source() -> None:
    for path in iter_vector_files(VECTOR_DIR):
        prov = load(path).provenance
        assert prov.get("source"), path
        gen = prov.get("generator")
        if gen:
            assert (ROOT / gen).is_file(), f"{path.name}: generator {gen} missing"


@pytest.mark.parametrize(
    ("generator", "file"),
    [
        ("gen_retry_receipts.py", "retry_receipts.json"),
        ("gen_wire_messages.py", "wire_messages.json"),
    ],
)
def test_a_generated_file_equals_a_fresh_generation(generator: str, file: str) -> None:
    root = Path(__file__).resolve().parents[1]
    gen = runpy.run_path(str(root / "vectors" / "generators" / generator))
    committed = (default_vector_dir() / file).read_text()
    assert gen["render"]() == committed, f"run .venv/bin/python vectors/generators/{generator}"
