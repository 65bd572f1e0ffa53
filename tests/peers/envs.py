"""Build the virtual environments that host the real peers (python-axolotl, yowsup).

python-axolotl 0.2.3 installs the import name ``axolotl`` too, so it can never share
a venv with this project: it lives in ``<repo>/.peers/pyaxolotl`` and the tests drive
it as a separate process (see ``pyaxolotl_peer.py`` and ``client.py``).

Run as a script (``.venv/bin/python tests/peers/envs.py [--rebuild]``) or call
:func:`ensure_env` from fixtures. Building is idempotent: a marker file records the
pins the venv was built from, and the venv is rebuilt only when that marker is
missing or differs (or when ``--rebuild`` is given).

The pins and the reasons for them are in /work/shared/PEERS.md:
- protobuf 3.20.3, because python-axolotl's generated ``_pb2`` modules are
  old-style and protobuf >= 4 refuses them;
- yowsup with ``--no-deps``, because its own pin (python-axolotl 0.2.2) skips
  PKCS#7 padding for plaintexts whose length is a multiple of 16.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO_ROOT / ".peers"
PYAXOLOTL_ENV = PEERS_DIR / "pyaxolotl"
MARKER_NAME = "axolotl-retry-pins.txt"

#: Each inner tuple is one ``pip install`` invocation; the order matters.
PIP_STEPS: tuple[tuple[str, ...], ...] = (
    (
        "python-axolotl==0.2.3",
        "python-axolotl-curve25519==0.4.1.post2",
        "protobuf==3.20.3",
    ),
    (
        "--no-deps",
        "yowsup==3.3.0",
        "consonance==0.1.5",
        "dissononce==0.34.3",
        "appdirs==1.4.4",
    ),
)


class EnvBuildError(RuntimeError):
    """Building the peer environment failed (message says which step)."""


def _marker_text() -> str:
    lines = [f"python {sys.version_info.major}.{sys.version_info.minor}"]
    lines += ["pip install " + " ".join(step) for step in PIP_STEPS]
    return "\n".join(lines) + "\n"


def env_python(env_dir: Path = PYAXOLOTL_ENV) -> Path:
    """Return the path of the python executable inside a peer venv.

    Args:
        env_dir: the venv directory.

    Returns:
        ``<env_dir>/bin/python`` (it may not exist yet).
    """
    return env_dir / "bin" / "python"


def is_current(env_dir: Path = PYAXOLOTL_ENV) -> bool:
    """Tell whether the venv exists and was built from the current pins.

    Args:
        env_dir: the venv directory.

    Returns:
        True when the marker file matches and the interpreter exists.
    """
    marker = env_dir / MARKER_NAME
    if not marker.is_file() or not env_python(env_dir).exists():
        return False
    return marker.read_text() == _marker_text()


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Keep the user's global constraint file (it only caps unrelated packages);
    # the pins below are exact, so a conflicting constraint would fail loudly.
    return env


def build(env_dir: Path = PYAXOLOTL_ENV, *, quiet: bool = True) -> Path:
    """(Re)create the peer venv from scratch and install the pinned packages.

    Args:
        env_dir: the venv directory (deleted first if present).
        quiet: pass ``-q`` to pip.

    Returns:
        The venv's python executable.

    Raises:
        EnvBuildError: venv creation or a pip step failed.
    """
    if env_dir.exists():
        shutil.rmtree(env_dir)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise EnvBuildError(f"creating venv {env_dir} failed: {exc}") from exc
    python = env_python(env_dir)
    for step in PIP_STEPS:
        cmd = [str(python), "-m", "pip", "install", *(["-q"] if quiet else []), *step]
        proc = subprocess.run(
            cmd, env=_pip_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
            raise EnvBuildError(
                f"pip failed (exit {proc.returncode}) for: {' '.join(step)}\n{tail}"
            )
    # Smoke test: both peers import with the pinned protobuf. Isolated (-I)
    # and run from the venv folder, so this checkout's own ``axolotl``
    # package can never shadow python-axolotl's.
    check = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            "import axolotl.sessionbuilder, axolotl.ecc.curve, google.protobuf, "
            "yowsup.layers.axolotl.protocolentities.receipt_incoming_retry",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=env_dir,
    )
    if check.returncode != 0:
        raise EnvBuildError(f"peer venv built but imports fail:\n{check.stdout.strip()}")
    (env_dir / MARKER_NAME).write_text(_marker_text())
    return python


def ensure_env(env_dir: Path = PYAXOLOTL_ENV, *, rebuild: bool = False) -> Path:
    """Return the peer venv's python, building the venv first if needed.

    Args:
        env_dir: the venv directory.
        rebuild: rebuild even if the marker says the venv is current.

    Returns:
        The python executable inside the peer venv.

    Raises:
        EnvBuildError: building was needed and failed.
    """
    if rebuild or not is_current(env_dir):
        return build(env_dir)
    return env_python(env_dir)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if current")
    parser.add_argument("--verbose", action="store_true", help="show pip output")
    args = parser.parse_args(argv)
    try:
        if args.rebuild or not is_current():
            print(f"building peer venv {PYAXOLOTL_ENV} ...", flush=True)
            python = build(PYAXOLOTL_ENV, quiet=not args.verbose)
        else:
            python = env_python()
            print(f"peer venv {PYAXOLOTL_ENV} is current", flush=True)
    except EnvBuildError as exc:
        print(f"error: peer environment build failed: {exc}", file=sys.stderr)
        return 1
    print(f"peer python: {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
