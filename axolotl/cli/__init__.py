"""The ``axolotl`` command.

Each subcommand lives in its own module under :mod:`axolotl.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["main"]

_COMMANDS = ("simulate", "vectors", "receipt")


class _BadOption(Exception):
    """A command line that does not parse (the message is one line)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``axolotl simulate: argument --devices: ...``.

    argparse's own prints the whole usage and exits from inside the parser;
    this one raises, so :func:`main` prints one line and returns 2.
    """

    def error(self, message: str) -> NoReturn:
        raise _BadOption(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = _Parser(
        prog="axolotl",
        description="Signal-protocol sessions with retry receipts.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        importlib.import_module(f"axolotl.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    A command line that does not parse gives one line on stderr and 2; Ctrl-C
    one line and 130 (a command may say more precisely what it interrupted).
    """
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except _BadOption as exc:
            print(" ".join(str(exc).split()), file=sys.stderr)
            return 2
        status: int = args.func(args)
    except KeyboardInterrupt:
        print("axolotl: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
