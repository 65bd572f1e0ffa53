"""Node-aware and text-aware mutations of receipt trees.

A fuzz input for the tree targets is a :data:`Flat` tree: a tuple of
``(tag, attrs, data, parent)`` rows in pre-order (``parent`` is the index of
the row's parent, -1 for the root). It is immutable, hashable, JSON-able and
can be as deep as a hostile peer likes without any recursion here; the
target builds a :class:`~axolotl.receipts.Node` from it through the public
constructor (:func:`build_node`), so the constructor's own checks are fuzzed
too.

Mutations: attribute values (boundary numbers, 4,300-digit numbers, non-ASCII
digits, control characters, lone surrogates, huge values), attributes added,
dropped or renamed, children dropped, duplicated, shuffled or transplanted
from other seeds, tags changed, data mutated or swapped for children,
nesting deepened, children multiplied. :func:`mutate_text` mutates the text
form, by tokens and characters or through a tree mutation.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from axolotl.receipts import Node
from tests.fuzz.mutate_bytes import key_like_values, mutate_bytes

__all__ = [
    "Flat",
    "build_node",
    "flat_from_json",
    "flat_to_json",
    "flatten",
    "mutate_flat",
    "mutate_text",
    "render_text",
]

Row = tuple[str, tuple[tuple[str, str], ...], bytes | None, int]
Flat = tuple[Row, ...]

_NUMBERS = (
    "0", "1", "2", "7", "9", "10", "255", "256", "01", "001", "007", "+1", "-1", " 1", "1 ",
    "1.0", "1e3", "0x10", "\u0661", "\u00b2", "\U0001d7cf", "\uff11", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551616", "9" * 20, "9" * 21, "1" + "0" * 25,
)  # fmt: skip
_TEXTS = (
    "", "\x00", "\n", "\r", "\t", "\x07", "\x1b[31m", "\x1b]0;owned\x07", "a\nregistration id: 1",
    "\ud800", "\udfff", "\u00e9", "\U0001f4a5", "\u202e", "\ufeff", "&", "<", ">", '"', "&amp;",
    "491234@s.whatsapp.net", "123-456@g.us", "@", "x" * 256, "3EB0",
)  # fmt: skip
_NAMES = (
    "id", "to", "from", "type", "t", "participant", "recipient", "count", "v", "error",
    "retry", "registration", "keys", "identity", "key", "skey", "value", "signature",
    "device-identity", "receipt", "x", "enc", "a:b",
)  # fmt: skip
_BAD_NAMES = ("", "a b", "a\x00", "<", "\u00e9", "a=b", "\n")
_DATA_LENGTHS = (0, 1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 1000)
_KEY_LIKE = key_like_values()


# -- flat <-> mutable tree <-> Node ---------------------------------------------------


class _M:
    """A mutable node while a mutation runs."""

    __slots__ = ("attrs", "children", "data", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], data: bytes | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.data = data
        self.children: list[_M] = []


def _unflatten(flat: Flat) -> _M:
    nodes = [_M(tag, dict(attrs), data) for tag, attrs, data, _ in flat]
    for node, (_, _, _, parent) in zip(nodes, flat, strict=True):
        if parent >= 0:
            nodes[parent].children.append(node)
    return nodes[0]


def _flatten_m(root: _M) -> Flat:
    rows: list[Row] = []
    stack: list[tuple[_M, int]] = [(root, -1)]
    while stack:
        node, parent = stack.pop()
        index = len(rows)
        rows.append((node.tag, tuple(node.attrs.items()), node.data, parent))
        stack.extend((kid, index) for kid in reversed(node.children))
    return tuple(rows)


def flatten(node: Node) -> Flat:
    """The flat form of ``node`` (iterative: any depth)."""
    rows: list[Row] = []
    stack: list[tuple[Node, int]] = [(node, -1)]
    while stack:
        current, parent = stack.pop()
        index = len(rows)
        rows.append((current.tag, tuple(current.attrs.items()), current.data, parent))
        stack.extend((kid, index) for kid in reversed(current.children))
    return tuple(rows)


def build_node(flat: Flat) -> Node:
    """Build the Node through the public constructor, leaves first (any depth, no recursion).

    Raises:
        UsageError: the constructor refused a row (a bad name, value, or both
            children and data).
    """
    kids: list[list[Node]] = [[] for _ in flat]
    built: Node | None = None
    for index in range(len(flat) - 1, -1, -1):
        tag, attrs, data, parent = flat[index]
        built = Node(tag, dict(attrs), kids[index], data)
        kids[index] = []
        if parent >= 0:
            kids[parent].insert(0, built)
    assert built is not None
    return built


def flat_to_json(flat: Flat) -> str:
    """A JSON text of ``flat`` (data as hex; lone surrogates survive as escapes)."""
    rows = [
        [t, [list(a) for a in attrs], None if d is None else d.hex(), p] for t, attrs, d, p in flat
    ]
    return json.dumps(rows, ensure_ascii=True)


def flat_from_json(text: str) -> Flat:
    """Read :func:`flat_to_json` output; raises ValueError on anything else."""
    rows: Any = json.loads(text)
    out: list[Row] = []
    for row in rows:
        tag, attrs, data, parent = row
        if not isinstance(parent, int) or not -1 <= parent < len(out) or (parent < 0) != (not out):
            raise ValueError("bad parent index")
        out.append(
            (
                str(tag),
                tuple((str(k), str(v)) for k, v in attrs),
                None if data is None else bytes.fromhex(data),
                parent,
            )
        )
    if not out:
        raise ValueError("empty tree")
    return tuple(out)


MAX_INPUT = 2 << 20
"""Mutants past about 2 MB (characters, bytes, rows) are dropped: a few times the 1 MB a
hostile peer is assumed to send in one go, and still quick to generate."""


def _size(flat: Flat) -> int:
    return sum(
        len(tag) + sum(len(k) + len(v) for k, v in attrs) + (len(data) if data else 0) + 8
        for tag, attrs, data, _ in flat
    )


# -- value mutations ------------------------------------------------------------------


def _mutate_string(rng: random.Random, value: str, donors: Sequence[str]) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(_NUMBERS)
    if roll < 0.5:
        return rng.choice(_TEXTS)
    if roll < 0.6 and donors:
        return rng.choice(donors)
    if roll < 0.65:  # long digit strings: Python's int() refuses more than 4,300 digits
        return rng.choice("19") * rng.choice((4300, 4301, 5000, 20000))
    if roll < 0.67:
        return rng.choice("a\x1b") * rng.choice((1 << 16, 1 << 20))  # 64 KiB / 1 MiB
    i = rng.randrange(len(value) + 1)
    piece = rng.choice(_TEXTS + _NUMBERS)[:4]
    if roll < 0.8:
        return value[:i] + piece + value[i:]
    if roll < 0.9:
        return value[:i] + value[i + 1 :]
    return value * rng.choice((2, 3, 100))


def _mutate_data(rng: random.Random, data: bytes | None, pool: Sequence[bytes]) -> bytes | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if data is None or roll < 0.3:
        return rng.choice(_KEY_LIKE) if rng.random() < 0.5 else bytes(rng.choice(_DATA_LENGTHS))
    if roll < 0.35:
        return data * rng.choice((2, 1000))
    return mutate_bytes(rng, data, pool)


# -- tree mutations --------------------------------------------------------------------


class _Ctx:
    __slots__ = ("donors", "nodes", "rng", "root", "valid_names")

    def __init__(self, rng: random.Random, root: _M, donors: Sequence[Flat], valid: bool) -> None:
        self.rng = rng
        self.root = root
        self.donors = donors
        self.valid_names = valid
        nodes: list[_M] = []
        stack = [root]
        while stack:
            n = stack.pop()
            nodes.append(n)
            stack.extend(n.children)
        self.nodes = nodes

    @property
    def strings(self) -> list[str]:
        """Attribute values of one random donor (values transplant between seeds)."""
        if not self.donors:
            return []
        return [v for row in self.rng.choice(self.donors) for _, v in row[1]]

    @property
    def data_pool(self) -> list[bytes]:
        """Data of one random donor."""
        if not self.donors:
            return []
        return [row[2] for row in self.rng.choice(self.donors) if row[2]]

    def node(self) -> _M:
        return self.rng.choice(self.nodes)

    def name(self) -> str:
        if not self.valid_names and self.rng.random() < 0.1:
            return self.rng.choice(_BAD_NAMES)
        return self.rng.choice(_NAMES)


def _t_attr_value(c: _Ctx) -> None:
    n = c.node()
    key = c.rng.choice(list(n.attrs)) if n.attrs and c.rng.random() < 0.8 else c.name()
    n.attrs[key] = _mutate_string(c.rng, n.attrs.get(key, ""), c.strings)


def _t_attr_drop(c: _Ctx) -> None:
    n = c.node()
    if n.attrs:
        del n.attrs[c.rng.choice(list(n.attrs))]


def _t_attr_rename(c: _Ctx) -> None:
    n = c.node()
    if n.attrs:
        old = c.rng.choice(list(n.attrs))
        n.attrs[c.name()] = n.attrs.pop(old)


def _t_child_drop(c: _Ctx) -> None:
    n = c.node()
    if n.children:
        del n.children[c.rng.randrange(len(n.children))]


def _t_child_duplicate(c: _Ctx) -> None:
    n = c.node()
    if n.children:
        kid = c.rng.choice(n.children)
        copy = _unflatten(_flatten_m(kid))
        n.children.insert(c.rng.randrange(len(n.children) + 1), copy)


def _t_child_shuffle(c: _Ctx) -> None:
    c.rng.shuffle(c.node().children)


def _t_transplant(c: _Ctx) -> None:
    if not c.donors:
        return
    donor = c.rng.choice(c.donors)
    start = c.rng.randrange(len(donor))
    # The subtree rooted at row ``start``: it and the rows after it that descend from it.
    rows = [donor[start]]
    inside = {start}
    for i in range(start + 1, len(donor)):
        if donor[i][3] in inside:
            inside.add(i)
            rows.append(donor[i])
    remap = {old: new for new, old in enumerate(sorted(inside))}
    sub = tuple((t, a, d, -1 if i == 0 else remap[p]) for i, (t, a, d, p) in enumerate(rows))
    target = c.node()
    target.data = None
    target.children.insert(c.rng.randrange(len(target.children) + 1), _unflatten(sub))


def _t_tag(c: _Ctx) -> None:
    c.node().tag = c.name()


def _t_data(c: _Ctx) -> None:
    n = c.node()
    n.data = _mutate_data(c.rng, n.data, c.data_pool)
    if n.data is not None and c.rng.random() < 0.7:
        n.children = []  # mostly keep the node valid: data or children, not both


def _t_deepen(c: _Ctx) -> None:
    n = c.node()
    depth = c.rng.choice((1, 2, 5, 27, 28, 31, 32, 33, 64, 200, 2500))
    inner = _M("x", {}, None)
    inner.children = n.children
    inner.data = n.data
    n.children, n.data = [inner], None
    for _ in range(depth - 1):
        wrapper = _M("x", {}, None)
        wrapper.children = n.children
        n.children = [wrapper]


def _t_widen(c: _Ctx) -> None:
    n = c.node()
    count = c.rng.choice((2, 10, 64, 65, 1000, 5000))
    kid = _M(c.name(), {}, None) if not n.children else c.rng.choice(n.children)
    # Stay under the size limit up front: flattening a tree to throw it away is slow.
    count = min(count, MAX_INPUT // _size(_flatten_m(kid)))
    n.data = None
    n.children.extend(kid for _ in range(count))  # shared objects: flattening copies them


def _t_many_attrs(c: _Ctx) -> None:
    n = c.node()
    for i in range(c.rng.choice((10, 1000))):
        n.attrs[f"a{i}"] = str(i)


_TREE_OPS: tuple[Callable[[_Ctx], None], ...] = (
    _t_attr_value, _t_attr_value, _t_attr_value, _t_attr_value, _t_attr_drop, _t_attr_rename,
    _t_child_drop, _t_child_duplicate, _t_child_shuffle, _t_transplant, _t_transplant, _t_tag,
    _t_data, _t_data, _t_data, _t_deepen, _t_widen, _t_many_attrs,
)  # fmt: skip


def mutate_flat(
    rng: random.Random, flat: Flat, donors: Sequence[Flat] = (), *, valid_names: bool = True
) -> Flat:
    """One tree mutation of ``flat``.

    Args:
        rng: the randomness.
        flat: the tree to mutate (not changed).
        donors: other trees to transplant subtrees and values from.
        valid_names: ``False`` lets a tenth of new names break the name alphabet.
    """
    root = _unflatten(flat)
    ctx = _Ctx(rng, root, donors, valid_names)
    rng.choice(_TREE_OPS)(ctx)
    out = _flatten_m(root)
    return out if _size(out) <= MAX_INPUT else flat


# -- text --------------------------------------------------------------------------

_TOKENS = (
    "<", ">", "</", "/>", "=", '"', " ", "\n", "\t", "&", "&amp;", "&quot;", "&#x0;", "&#xd800;",
    "&#x110000;", "&#x10ffff;", "&#xffffffffffff;", "&#;", "&#x;", "&#65;", "0x", "0x0", "0x00",
    "<x/>", "<retry/>", "</receipt>", "<receipt>", "<keys>", "\x00", "\ufeff", "\u00e9",
    '<x a="1">', "</x>", "<!--", "<?xml?>", "]]>", 'count="', 't="' + "9" * 4301 + '"',
)  # fmt: skip


def render_text(flat: Flat, indent: int | None = 2) -> str:
    """The text form of a flat tree, written here without recursion or escaping checks.

    The library's renderer is under test elsewhere; this one writes whatever
    the tree holds (invalid names included, values escaped as the library
    escapes them), so the text targets can reach any depth.
    """
    out: list[str] = []
    children: list[list[int]] = [[] for _ in flat]
    for i, row in enumerate(flat):
        if row[3] >= 0:
            children[row[3]].append(i)
    stack: list[tuple[int, int, bool]] = [(0, 0, False)]
    while stack:
        i, level, closing = stack.pop()
        tag, attrs, data, _ = flat[i]
        pad = "" if indent is None else " " * (indent * level)
        nl = "" if indent is None else "\n"
        if closing:
            out.append(f"{pad}</{tag}>{nl}")
            continue
        head = "<" + tag + "".join(f' {k}="{_escape(v)}"' for k, v in attrs)
        if data is not None:
            out.append(f"{pad}{head}>0x{data.hex()}</{tag}>{nl}")
        elif children[i]:
            out.append(f"{pad}{head}>{nl}")
            stack.append((i, level, True))
            stack.extend((k, level + 1, False) for k in reversed(children[i]))
        else:
            out.append(f"{pad}{head}/>{nl}")
    return "".join(out).rstrip("\n")


def _escape(value: str) -> str:
    table = {"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;"}
    return "".join(table.get(c) or (c if c.isprintable() else f"&#x{ord(c):x};") for c in value)


def _text_op(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    i = rng.randrange(len(text) + 1)
    roll = rng.random()
    if roll < 0.35:
        return text[:i] + rng.choice(_TOKENS) + text[i:]
    if roll < 0.5:
        return text[:i] + text[i + rng.randrange(1, 16) :]
    if roll < 0.6:
        j = min(len(text), i + rng.randrange(1, 64))
        return text[:j] + text[i:j] * rng.choice((1, 2, 50)) + text[j:]
    if roll < 0.7 and text:
        k = rng.randrange(len(text))
        return (
            text[:k]
            + chr(rng.choice((0, 9, 10, 13, 27, 34, 38, 60, 62, 0xD800, 0x10FFFF)))
            + text[k + 1 :]
        )
    if roll < 0.8:
        return text[:i]
    if roll < 0.9 and pool:
        other = rng.choice(pool)
        return text[:i] + other[rng.randrange(len(other) + 1) :]
    if roll < 0.91:  # a big hostile document: deep, wide or long (timing must stay linear)
        kind = rng.randrange(3)
        if kind == 0:
            return "<x>" * 100_000 + text
        if kind == 1:
            return "<receipt>" + "<x/>" * 100_000 + "</receipt>"
        return f'<receipt id="{"a" * (1 << 20)}"/>'
    return text.replace(" ", rng.choice(("  ", "\t", "\n", "")), 1)


def mutate_text(rng: random.Random, text: str, pool: Sequence[str], trees: Sequence[Flat]) -> str:
    """One mutation of node text: of the characters (``pool`` for splices) or of a tree.

    Args:
        rng: the randomness.
        text: the text to mutate.
        pool: other texts, for splicing.
        trees: seed trees; a tree mutation of one of them is rendered instead.
    """
    if trees and rng.random() < 0.4:
        flat = rng.choice(trees)
        for _ in range(rng.choice((1, 1, 2, 3))):
            flat = mutate_flat(rng, flat, trees, valid_names=False)
        out = render_text(flat, rng.choice((2, None)))
    else:
        out = _text_op(rng, text, pool)
    return out if len(out) <= MAX_INPUT else text
