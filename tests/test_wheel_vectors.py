"""The wheel carries its vectors: ``axolotl vectors verify`` passes with only the wheel installed.

The test builds the wheel from a clean copy of the checkout, installs it into
a fresh virtual environment with ``pip install --no-index`` from a wheelhouse
that holds it and its dependencies (the versions this interpreter runs, fetched
by pip as configured here), and runs the installed ``axolotl vectors verify``
from a folder outside the checkout. Every vector file of the checkout must be
in the table and pass.

What it needs beyond the package: setuptools >= 77 in this interpreter (the
``test`` extra installs it; the build runs without build isolation, so it
works offline) and pip's access to wheels of the dependencies. Outside CI a
missing one skips with the reason; with ``CI`` set it fails.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from axolotl.testvectors import default_vector_dir, iter_vector_files

ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES = ("cryptography", "protobuf", "pynacl")
TIMEOUT_S = 240  # per command; the whole test takes ~15 s here

# Left out of the copy the wheel is built from: a stale build/ would put
# modules deleted since into the wheel (setuptools never cleans it).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".peers",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "fuzz-findings",
    "fuzz-corpus",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"cannot build and install the wheel: {reason}", pytrace=False)
    pytest.skip(f"cannot build and install the wheel: {reason}")


def _run(
    cmd: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 15) -> str:
    return "\n".join(proc.stdout.strip().splitlines()[-lines:])


def _isolated_env() -> dict[str, str]:
    """The environment with nothing that points back at this checkout or this pip setup."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull  # no index, find-links or constraints from config files
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _setuptools_ok() -> bool:
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the built wheel and wheels of its dependencies."""
    if not _setuptools_ok():
        _unavailable("this interpreter lacks setuptools >= 77 (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("wheel")
    source, house = tmp / "source", tmp / "wheelhouse"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            house,
            source,
        ],
        cwd=tmp,
    )
    assert built.returncode == 0, f"pip wheel failed:\n{_tail(built)}"
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in DEPENDENCIES]
    fetched = _run(
        [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", house, *pins],
        cwd=tmp,
    )
    if fetched.returncode != 0:
        wanted = " ".join(pins)
        _unavailable(f"pip could not fetch wheels of {wanted} (offline?):\n{_tail(fetched)}")
    return house


@pytest.fixture(scope="module")
def installed(wheelhouse: Path) -> Path:
    """The ``bin`` folder of a fresh venv with only the wheel and its dependencies installed."""
    env_dir = wheelhouse.parent / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bindir = env_dir / "bin"
    done = _run(
        [
            bindir / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            wheelhouse,
            "axolotl-retry",
        ],
        cwd=wheelhouse.parent,
        env=_isolated_env(),
    )
    assert done.returncode == 0, f"offline install of the wheel failed:\n{_tail(done)}"
    return bindir


def test_the_wheel_holds_the_package_and_every_vector_file(wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob("axolotl_retry-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    outside = [n for n in names if not n.startswith(("axolotl/", "axolotl_retry-"))]
    assert outside == [], "the wheel ships more than the axolotl package"
    shipped = {Path(n).name for n in names if n.endswith(".json")}
    assert shipped == {p.name for p in iter_vector_files(default_vector_dir())}


def test_installed_vectors_verify_passes_outside_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"  # an empty folder: no vectors/ beside the cwd
    elsewhere.mkdir()
    where = _run(
        [installed / "python", "-c", "import axolotl; print(axolotl.__file__)"],
        cwd=elsewhere,
        env=_isolated_env(),
    )
    assert where.returncode == 0, where.stdout
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout

    proc = _run([installed / "axolotl", "vectors", "verify"], cwd=elsewhere, env=_isolated_env())
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:] if line and line.endswith("ok")}
    files = list(iter_vector_files(default_vector_dir()))
    assert sorted(rows) == sorted(p.name for p in files), proc.stdout
    cases = sum(len(json.loads(p.read_text())["cases"]) for p in files)
    assert re.fullmatch(rf"{cases} passed, 0 failed", lines[-1]), proc.stdout
