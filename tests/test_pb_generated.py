"""The committed generated protobuf modules equal a fresh generation from proto/."""

from __future__ import annotations

import importlib.util
import os
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_generated_modules_match_proto_sources(tmp_path: Path) -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        if os.environ.get("CI"):
            pytest.fail("grpcio-tools (dev extra) must be installed in CI")
        pytest.skip("grpcio-tools not installed (pip install -e '.[dev]')")
    gen = runpy.run_path(str(ROOT / "scripts" / "gen_proto.py"))
    fresh = {p.name: p.read_text() for p in gen["generate"](tmp_path)}
    committed_dir = ROOT / "axolotl" / "_pb"
    committed = {
        p.name: p.read_text() for p in committed_dir.iterdir() if p.suffix in (".py", ".pyi")
    }
    assert sorted(fresh) == sorted(committed), (
        "generated file set differs; run scripts/gen_proto.py"
    )
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} is stale; run scripts/gen_proto.py"
