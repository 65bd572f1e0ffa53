"""One test case per vector in every shipped vector file (``axolotl/testvectors/data/``)."""

from __future__ import annotations

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
