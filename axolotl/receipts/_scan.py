"""The scanning half of the text parser: its regular expressions, attribute reading, diagnosis.

Private to :mod:`axolotl.receipts.text` (split off to keep each module short).
Everything here works on whole runs of text in C (regular expressions,
``split``, ``map``, ``count``, ``replace``); :func:`diagnose` is the slow path
that says what is wrong, run once per failure.
"""

from __future__ import annotations

import re
from itertools import repeat

from axolotl.errors import DecodeError
from axolotl.receipts.limits import (
    MAX_ATTRS,
    MAX_DATA_LENGTH,
    MAX_NAME_LENGTH,
    MAX_UNPRINTABLE_TEXT,
    MAX_VALUE_LENGTH,
)

__all__ = [
    "START",
    "CLOSE",
    "DATA",
    "SPACE_CHARS",
    "fail",
    "skip_space",
    "attributes",
    "diagnose",
]

# A character's longest escape (&#x10ffff;) is 10 characters.
_MAX_RAW_VALUE = 10 * MAX_VALUE_LENGTH
_WS = "[ \t\r\n]"
_NAME_RE = f"[A-Za-z0-9_.:-]{{1,{MAX_NAME_LENGTH}}}"
START = re.compile(
    f'{_WS}*<({_NAME_RE})((?:{_WS}+{_NAME_RE}="[^"<]{{0,{_MAX_RAW_VALUE}}}"){{0,{MAX_ATTRS}}})'
    f"{_WS}*(/?>)"
)
CLOSE = re.compile(f"{_WS}*</({_NAME_RE}){_WS}*>")
DATA = re.compile(f"{_WS}*0x([0-9a-fA-F]{{0,{2 * MAX_DATA_LENGTH}}}){_WS}*</({_NAME_RE}){_WS}*>")
_SPACE = re.compile(f"{_WS}*")
SPACE_CHARS = frozenset(" \t\r\n")
_NAME_AT = re.compile(_NAME_RE)
_HEX_RUN = re.compile(f"[0-9a-fA-F]{{0,{2 * MAX_DATA_LENGTH + 1}}}")
_VALUE_RUN = re.compile(f'[^"<]{{0,{_MAX_RAW_VALUE}}}')
_NUMREF = re.compile("&#x(0|[1-9a-f][0-9a-f]{0,5});")
_NAME_CHAR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")


def fail(pos: int, reason: str) -> DecodeError:
    return DecodeError("node text", f"{reason} at offset {pos}")


def skip_space(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return pos if m is None else m.end()


def decode_numeric(text: str, pos: int) -> str:
    """Replace the canonical numeric references in ``text`` by their (non-printable) characters."""
    parts = _NUMREF.split(text)
    if len(parts) == 1:
        return text
    codes = list(map(int, parts[1::2], repeat(16)))
    if max(codes) > 0x10FFFF:
        raise fail(pos, "character reference beyond U+10FFFF")
    chars = list(map(chr, codes))
    if any(map(str.isprintable, chars)):
        raise fail(pos, "character reference to a printable character: write it as is")
    parts[1::2] = chars
    return "".join(parts)


def decode_named(value: str) -> str:
    return (
        value.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


# Stand-ins for a decoded '"' while a start tag's attribute text is still split
# at its quotes; any one not present in the text will do.
_QUOTE_STAND_INS = ("\x00", "\x01", "\x02", "\x03", "\ue000", "\ue001", "\ufdd0", "\ufdd1")
_STRIP = " \t\r\n="


def attributes(attr_text: str, pos: int, spent: int) -> tuple[dict[str, str], int, int]:
    """Read the attributes of a start tag; (attrs, their text size, unprintable characters).

    ``attr_text`` already matched the attribute syntax, so splitting it at
    its quotes is exact: names in the even pieces, raw values in the odd
    ones. References are decoded in the whole attribute text at once, so
    the work per start tag is a fixed number of C calls (split, map, count,
    replace) whatever the number of values or references. ``spent`` is the
    unprintable text already read in this tree.
    """
    pieces = attr_text.split('"')
    if len(pieces) == 3:  # the common single attribute
        key = pieces[0].strip(_STRIP)
        raw = value = pieces[1]
        if not raw.isprintable():
            raise fail(pos, "a raw control character inside an attribute value (write &#x..;)")
        unprintable = 0
        if "&" in raw:
            if "&#x" in raw:
                if spent + raw.count("&#x") > MAX_UNPRINTABLE_TEXT:
                    raise fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
                value = decode_numeric(raw, pos)
            if value.count("&") != (
                value.count("&quot;")
                + value.count("&amp;")
                + value.count("&lt;")
                + value.count("&gt;")
            ):
                bad = raw[raw.find("&") :][:12]
                raise fail(pos, f"unknown or non-canonical character reference near {bad!r}")
            value = decode_named(value)
            if not value.isprintable():
                unprintable = len(value)
                if spent + unprintable > MAX_UNPRINTABLE_TEXT:
                    raise fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
        if len(value) > MAX_VALUE_LENGTH:
            raise fail(pos, f"an attribute value longer than {MAX_VALUE_LENGTH} characters")
        return {key: value}, len(key) + len(raw) + 4 + 3 * raw.count(">"), unprintable
    names = list(map(str.strip, pieces[0:-1:2], repeat(_STRIP)))
    raws = pieces[1::2]
    # The canonical text of a value is its raw text with '>' escaped, and
    # attributes are separated by one space, which is how to_text writes
    # them: then the text is its own size. (A value holds no '"', so '"  '
    # is a separator; printable text holds no TAB, CR or LF.)
    printable = attr_text.isprintable()
    if printable and attr_text[1] != " " and '"  ' not in attr_text:
        size = len(attr_text)
    else:
        size = sum(map(len, names)) + sum(map(len, raws)) + 4 * len(names)
        if not printable and not all(map(str.isprintable, raws)):
            raise fail(pos, "a raw control character inside an attribute value (write &#x..;)")
    size += 3 * attr_text.count(">")
    unprintable = 0
    if "&" in attr_text:
        text = attr_text
        numeric = text.count("&#x")
        if numeric:
            # Each reference makes at least one character of unprintable text.
            if spent + numeric > MAX_UNPRINTABLE_TEXT:
                raise fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
            # Numeric first: they decode to non-printable characters, never to
            # '&' or '"', so neither the named ones nor the quotes are disturbed.
            text = decode_numeric(text, pos)
        quot = text.count("&quot;")
        named = quot + text.count("&amp;") + text.count("&lt;") + text.count("&gt;")
        if text.count("&") != named:
            bad = text[text.find("&") :][:12]
            raise fail(pos, f"unknown or non-canonical character reference near {bad!r}")
        stand_in = ""
        if quot:
            stand_in = next((c for c in _QUOTE_STAND_INS if c not in text), "")
        if stand_in or not quot:
            text = (
                text.replace("&quot;", stand_in)
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
            )
            raws = text.split('"')[1::2]
            if quot:
                raws = list(map(str.replace, raws, repeat(stand_in), repeat('"')))
        else:  # every stand-in is taken (by numeric references): value by value
            raws = list(map(decode_named, text.split('"')[1::2]))
        if numeric:
            unprintable = sum(len(v) for v in raws if not v.isprintable())
            if spent + unprintable > MAX_UNPRINTABLE_TEXT:
                raise fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
    attrs = dict(zip(names, raws, strict=True))
    if len(attrs) != len(names):
        seen: set[str] = set()
        for key in names:
            if key in seen:
                raise fail(pos, f"duplicated attribute {key!r}")
            seen.add(key)
    if len(attr_text) > MAX_VALUE_LENGTH and max(map(len, raws)) > MAX_VALUE_LENGTH:
        raise fail(pos, f"an attribute value longer than {MAX_VALUE_LENGTH} characters")
    return attrs, size, unprintable


def diagnose(text: str, pos: int) -> DecodeError:
    """Say why no element starts at ``pos`` (the slow path, run once per failure)."""
    p = skip_space(text, pos)
    if p >= len(text):
        return fail(p, "unexpected end of text")
    if text.startswith("0x", p):
        run = _HEX_RUN.match(text, p + 2)
        digits = 0 if run is None else run.end() - p - 2
        if digits > 2 * MAX_DATA_LENGTH:
            return fail(p, f"data longer than {MAX_DATA_LENGTH} bytes")
        if digits % 2:
            return fail(p, "odd number of hex digits")
        return fail(p + 2 + digits, "expected '</' after the data")
    if text.startswith("</", p):
        return fail(p, "malformed or unexpected end tag")
    if not text.startswith("<", p):
        return fail(p, "expected '<'")
    p += 1
    name = _NAME_AT.match(text, p)
    if name is None:
        return fail(p, "expected a tag name")
    p = name.end()
    if p < len(text) and text[p] in _NAME_CHAR:
        return fail(p, f"a tag name longer than {MAX_NAME_LENGTH} characters")
    for n in range(MAX_ATTRS + 1):
        q = skip_space(text, p)
        if text.startswith(("/>", ">"), q):
            break
        if q == p:
            return fail(p, "expected whitespace, '>' or '/>'")
        if n == MAX_ATTRS:
            return fail(q, f"more than {MAX_ATTRS} attributes")
        name = _NAME_AT.match(text, q)
        if name is None:
            return fail(q, "expected an attribute name, '>' or '/>'")
        p = name.end()
        if p < len(text) and text[p] in _NAME_CHAR:
            return fail(p, f"an attribute name longer than {MAX_NAME_LENGTH} characters")
        if not text.startswith('="', p):
            return fail(p, "expected '=\"'")
        run = _VALUE_RUN.match(text, p + 2)
        end = p + 2 if run is None else run.end()
        if end >= len(text):
            return fail(end, "unterminated attribute value")
        if text[end] == "<":
            return fail(end, "'<' inside an attribute value")
        if text[end] != '"':
            return fail(p, f"an attribute value longer than {_MAX_RAW_VALUE} characters")
        p = end + 1
    return fail(p, "malformed start tag")
