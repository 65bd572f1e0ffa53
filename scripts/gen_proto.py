"""Regenerate axolotl/_pb from proto/*.proto (the single source of truth).

Usage: python scripts/gen_proto.py [OUT_DIR]

Needs the dev extra (grpcio-tools, pinned). Imports between generated modules
are rewritten to relative ones so the package stays private and relocatable.
tests/test_pb_generated.py regenerates into a temporary folder and fails if
the committed modules differ.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "proto"
DEFAULT_OUT = ROOT / "axolotl" / "_pb"


def generate(out_dir: Path) -> list[Path]:
    """Run protoc over every .proto file; return the generated files."""
    from grpc_tools import protoc  # dev extra only

    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(PROTO_DIR.glob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        *[str(p) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    generated = []
    for proto in protos:
        for suffix in ("_pb2.py", "_pb2.pyi"):
            path = out_dir / f"{proto.stem}{suffix}"
            text = path.read_text()
            text = re.sub(r"^import (\w+_pb2) as", r"from . import \1 as", text, flags=re.M)
            path.write_text(text)
            generated.append(path)
    init = out_dir / "__init__.py"
    init.write_text(
        '"""Generated protobuf modules (private; see proto/ and scripts/gen_proto.py)."""\n'
    )
    generated.append(init)
    return generated


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    for p in generate(target):
        print(p.relative_to(target.parent) if target == DEFAULT_OUT else p)
