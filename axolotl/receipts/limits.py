"""Every limit the receipt parsers and constructors enforce, in one place.

A peer controls every byte of a receipt, so each parser of remote input
(node text, node trees from dicts or yowsup, the ``RetryReceipt`` protobuf,
``DecryptionErrorMessage`` / ``PlaintextContent``) refuses input beyond these
limits with a typed :class:`~axolotl.errors.RemoteError`, in time linear in
the input. The constructors (:class:`~axolotl.receipts.node.Node`, the
receipt entities, :class:`~axolotl.receipts.fields.KeyBundle`) enforce the
same limits with :class:`~axolotl.errors.UsageError`, and the text renderer
checks them again, so whatever a constructor accepts renders and parses back
(no ``RecursionError``, no oversized output).

Node trees (generic: receipts and the ``<message>`` stanzas of
:mod:`axolotl.retry.stanza` share them, so they are sized for a group
fan-out of 1024 members x 5 devices; each layer checks its own fields more
tightly on top):

=============================  ==========  ==================================================
limit                          value       what it bounds
=============================  ==========  ==================================================
``MAX_DEPTH``                  32          levels of a tree (the root is level 1; receipts use 4)
``MAX_CHILDREN``               8192        children of one node (a fan-out's ``<participants>``
                                           has up to 5120; a receipt's ``<keys>`` 5)
``MAX_NODES``                  12288       nodes in one tree (a full fan-out: 2 per device,
                                           10,243 in all)
``MAX_ATTRS``                  32          attributes of one node (receipts use at most 6)
``MAX_TOTAL_ATTRS``            32768       attributes in one tree (a full fan-out: at most
                                           5 per device, ~25,600)
``MAX_NAME_LENGTH``            64          characters of a tag or attribute name
                                           (letters, digits and ``_-.:``)
``MAX_VALUE_LENGTH``           4096        characters of one attribute value
``MAX_UNPRINTABLE_TEXT``       4096        characters, summed over a tree's attribute
                                           values that hold a non-printable character
                                           (each is escaped character by character)
``MAX_DATA_LENGTH``            1 MiB       bytes of one node's content (the stanza layer
                                           allows 256 KiB per ``<enc>``; a receipt's
                                           largest field is 4 KiB)
``MAX_TEXT_LENGTH``            16 MiB      characters of a whole tree's compact text form,
                                           ``to_text(indent=None)`` (a full fan-out is ~7 MB)
``MAX_INDENT``                 8           spaces per level ``to_text`` writes
``MAX_INPUT_LENGTH``           32 MiB      characters ``parse_text`` reads: the compact form
                                           plus room for the widest indentation
=============================  ==========  ==================================================

Node attribute values are any ``str``; tag and attribute names are letters,
digits and ``_-.:``. The text form writes a non-printable character as
``&#x..;``, which is what ``MAX_UNPRINTABLE_TEXT`` bounds. What a field may
hold is up to the layer that reads it: receipt ids and JIDs are printable
text (below), so a lone surrogate or a control character in one is an
``InvalidReceipt`` from every receipt codec.

Retry receipt fields (node, protobuf and constructors alike):

=================================  ========  ==============================================
limit                              value     field
=================================  ========  ==============================================
``MAX_RECEIPT_NODES``              32        nodes in a receipt tree (a full one has 14):
                                             the yowsup bridge and ``parse_text`` stop
                                             there when they read a receipt
``MAX_ID_LENGTH``                  256       ``receipt@id`` = ``retry@id``, characters
``MAX_JID_LENGTH``                 256       ``to`` / ``from`` / ``participant`` /
                                             ``recipient``, characters
``MAX_DEVICE_IDENTITY_LENGTH``     4096      ``<keys><device-identity>`` bytes (today's
                                             ADVSignedDeviceIdentity is ~200)
``MAX_UINT_DIGITS``                20        digits of a numeric attribute (2^64 - 1 has 20)
``MAX_RECEIPT_PROTO_LENGTH``       16 KiB    a ``RetryReceipt`` protobuf (the largest valid
                                             one is under 9 KiB)
``MAX_DEM_LENGTH``                 1024      a ``DecryptionErrorMessage`` (libsignal's are
                                             under 60 bytes)
``MAX_PLAINTEXT_CONTENT_LENGTH``   2048      a ``PlaintextContent`` around one
=================================  ========  ==============================================

Fixed sizes: ``<registration>`` 4 bytes, ``<type>`` 1, ``<identity>`` and
every key ``<value>`` 32, key ``<id>`` 3, ``<signature>`` 64; ``retry@count``
1..255, ``retry@v`` 1..2^32-1, ``retry@t`` and ``receipt@t`` 0..2^64-1,
``retry@error`` one of the ten reason codes.

Text fields (ids and JIDs) are 1..256 characters of printable Unicode
(:meth:`str.isprintable`): no control characters (NUL, TAB, CR, LF, ESC,
DEL, C1), no format characters (ZWSP, bidirectional overrides), no line or
paragraph separators, no surrogates or unassigned code points; the one
space character U+0020 is allowed, as the stanza parser allows it.

Every numeric attribute has one syntax (:func:`parse_uint`): ASCII digits,
no sign, no leading zero except ``"0"`` itself, at most
:data:`MAX_UINT_DIGITS` digits. ``"01"``, ``"+1"``, ``" 1"``, ``"1.0"`` and
non-ASCII digits are refused, and a number is never converted before its
length is checked (Python's ``int()`` raises ``ValueError`` past 4300 digits).
"""

from __future__ import annotations

from typing import Final

from axolotl.errors import UsageError

__all__ = [
    "MAX_DEPTH",
    "MAX_CHILDREN",
    "MAX_NODES",
    "MAX_ATTRS",
    "MAX_TOTAL_ATTRS",
    "MAX_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
    "MAX_UNPRINTABLE_TEXT",
    "MAX_DATA_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_INDENT",
    "MAX_INPUT_LENGTH",
    "MAX_RECEIPT_NODES",
    "MAX_ID_LENGTH",
    "MAX_JID_LENGTH",
    "MAX_DEVICE_IDENTITY_LENGTH",
    "MAX_UINT_DIGITS",
    "MAX_RECEIPT_PROTO_LENGTH",
    "MAX_DEM_LENGTH",
    "MAX_PLAINTEXT_CONTENT_LENGTH",
    "check_max_nodes",
    "parse_uint",
    "excerpt",
]

# -- node trees ------------------------------------------------------------------

MAX_DEPTH: Final = 32
MAX_CHILDREN: Final = 8192
MAX_NODES: Final = 12288
MAX_ATTRS: Final = 32
MAX_TOTAL_ATTRS: Final = 32768
MAX_NAME_LENGTH: Final = 64
MAX_VALUE_LENGTH: Final = 4096
MAX_UNPRINTABLE_TEXT: Final = 4096
MAX_DATA_LENGTH: Final = 1024 * 1024
MAX_TEXT_LENGTH: Final = 16 * 1024 * 1024
MAX_INDENT: Final = 8
MAX_INPUT_LENGTH: Final = 32 * 1024 * 1024

# MAX_INPUT_LENGTH leaves room for the indented text of the largest tree: each
# node adds at most two lines of padding at the deepest level plus two
# newlines (tests/test_receipts_limits.py checks the sum).

# -- retry receipt fields -----------------------------------------------------------

MAX_RECEIPT_NODES: Final = 32
MAX_ID_LENGTH: Final = 256
MAX_JID_LENGTH: Final = 256
MAX_DEVICE_IDENTITY_LENGTH: Final = 4096
MAX_UINT_DIGITS: Final = 20
MAX_RECEIPT_PROTO_LENGTH: Final = 16 * 1024
MAX_DEM_LENGTH: Final = 1024
MAX_PLAINTEXT_CONTENT_LENGTH: Final = 2048


def check_max_nodes(max_nodes: object) -> int:
    """``max_nodes`` as a tree reader's node cap: an int in 1..:data:`MAX_NODES`.

    Raises:
        UsageError: it is not one.
    """
    if type(max_nodes) is not int or not 0 < max_nodes <= MAX_NODES:
        raise UsageError(f"max_nodes must be an int in 1..{MAX_NODES}, got {max_nodes!r}")
    return max_nodes


def parse_uint(value: object, high: int) -> int | None:
    """Read a canonical unsigned decimal, or ``None`` when it is not one or exceeds ``high``.

    Canonical: 1..:data:`MAX_UINT_DIGITS` ASCII digits, no sign, no
    whitespace, no leading zero unless the number is ``"0"``.

    Args:
        value: the attribute value (anything; non-strings are not numbers).
        high: the largest value accepted.

    Returns:
        The number, or ``None``.
    """
    if (
        type(value) is not str
        or not 0 < len(value) <= MAX_UINT_DIGITS
        or not value.isascii()
        or not value.isdigit()
        or (value[0] == "0" and len(value) > 1)
    ):
        return None
    number = int(value)
    return number if number <= high else None


_EXCERPT = 40


def excerpt(value: object) -> str:
    """A short, escaped quotation of a peer's value for an error message.

    Error messages quote what was wrong, but a peer's value may be a
    megabyte long or hold terminal control sequences: this is its ``repr``
    (which escapes control characters), cut to about 40 characters.

    Args:
        value: the offending value.

    Returns:
        ``repr`` of at most the first 40 characters (or bytes), plus the
        total length when it was cut.
    """
    if isinstance(value, str | bytes) and len(value) > _EXCERPT:
        return f"{value[:_EXCERPT]!r}... ({len(value)} long)"
    text = repr(value)
    return text if len(text) <= 2 * _EXCERPT else text[: 2 * _EXCERPT] + "..."
