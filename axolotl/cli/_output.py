r"""Terminal output shared by the inspectors: peer text escaped, lines the terminal can carry.

Every value that came from a peer is printed through :func:`shown`, so it
cannot move the cursor, recolour the terminal or forge a line of output;
:func:`one_line` turns an error's message into one such line; :func:`emit`
writes a line in whatever encoding the stream has (backslash escapes for what
it cannot show).
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["emit", "one_line", "shown"]


def shown(value: str, *, backslash: bool = True) -> str:
    r"""``value`` with every non-printable character (and the backslash) escaped.

    Escapes read as in Python: ``\x1b``, ``\n``, ``\u202e``,
    ``\U000e0001``, and ``\\`` for a backslash, so the result is one line
    that a terminal shows as written.

    Args:
        value: text from a peer.
        backslash: escape ``\`` too (so ``\x1b`` written by the peer
            cannot pass for an escape); off for error messages, whose peer
            values are already quoted with ``repr``.

    Returns:
        The escaped text.
    """
    if value.isprintable() and (not backslash or "\\" not in value):
        return value
    return "".join(_escape_char(c, backslash) for c in value)


def _escape_char(char: str, backslash: bool) -> str:
    if char == "\\":
        return "\\\\" if backslash else char
    if char.isprintable():
        return char
    if char in "\n\r\t":
        return repr(char)[1:-1]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(message: str) -> str:
    """An error message as one escaped line (whitespace runs, newlines included, become a space).

    Args:
        message: ``str(exc)`` of an error, whose peer values are quoted with ``repr``.

    Returns:
        The line.
    """
    return shown(" ".join(message.split()), backslash=False)


def emit(line: str, stream: TextIO) -> None:
    """Write one line that ``stream``'s encoding can carry (backslash escapes otherwise).

    Args:
        line: the line, without its newline.
        stream: where to write it.
    """
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        line = line.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        line = line.encode("ascii", "backslashreplace").decode("ascii")
    stream.write(line + "\n")
