"""One kind of retry record in memory: a dict plus a sorted index on ``(due_ms, key)``.

:class:`~axolotl.store.memory.MemoryStore` keeps one :class:`RecordTable` per
kind. The index is a plain list kept sorted with :mod:`bisect`, holding
``(0, due_ms, key)`` for records with a due time and ``(1, 0, key)`` for those
without, so one list gives every order the protocol asks for: due records
first by ``(due_ms, key)``, then the rest by key. Lookups of the earliest
records (:meth:`RecordTable.due`, :meth:`RecordTable.next_due_ms`,
:meth:`RecordTable.evict`) cost a binary search plus the records returned;
an insert or delete costs a binary search plus one pointer move of the list
(``memmove``), which stays cheap at the tens of thousands of records a
delivered-id record holds.

The table is a :class:`~collections.abc.MutableMapping` from key to
``(value, due_ms)``, so the store's undo log restores it with the same
``table[key] = old`` / ``table.pop(key, None)`` it uses for plain dicts, and
the index follows.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, MutableMapping
from typing import Final

__all__ = ["Entry", "RecordTable"]

Entry = tuple[bytes, int | None]
"""A stored record: ``(value, due_ms)``."""

_IndexItem = tuple[int, int, str]

# Sorts after every (0, due, key) and before every (1, 0, key).
_FIRST_UNDUE: Final[_IndexItem] = (1, -1, "")


def _index_item(key: str, due_ms: int | None) -> _IndexItem:
    return (1, 0, key) if due_ms is None else (0, due_ms, key)


class RecordTable(MutableMapping[str, Entry]):
    """The records of one kind, with their ``(due_ms, key)`` order maintained."""

    __slots__ = ("_index", "_values")

    def __init__(self) -> None:
        self._values: dict[str, Entry] = {}
        self._index: list[_IndexItem] = []

    # -- MutableMapping ----------------------------------------------------

    def __getitem__(self, key: str) -> Entry:
        return self._values[key]

    def __setitem__(self, key: str, entry: Entry) -> None:
        values = self._values
        old = values.get(key)
        values[key] = entry
        if old is not None:
            if old[1] == entry[1]:
                return  # same due time: the index entry stays where it is
            self._unindex(key, old[1])
        insort(self._index, _index_item(key, entry[1]))

    def __delitem__(self, key: str) -> None:
        entry = self._values.pop(key)
        self._unindex(key, entry[1])

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def _unindex(self, key: str, due_ms: int | None) -> None:
        index = self._index
        item = _index_item(key, due_ms)
        position = bisect_left(index, item)
        # The index mirrors the dict exactly; a miss here is a bug, not bad input.
        assert index[position] == item, "record index out of step"
        del index[position]

    # -- ordered queries ---------------------------------------------------

    def due(self, now_ms: int, limit: int) -> list[tuple[str, bytes, int]]:
        """Up to ``limit`` records with ``due_ms <= now_ms``, by ``(due_ms, key)``."""
        index = self._index
        end = min(bisect_left(index, (0, now_ms + 1, "")), limit)
        values = self._values
        return [(key, values[key][0], due) for _, due, key in index[:end]]

    def ordered(self, limit: int | None) -> list[tuple[str, bytes, int | None]]:
        """Up to ``limit`` records, by ``(due_ms, key)``, those without ``due_ms`` last."""
        items = self._index if limit is None else self._index[:limit]
        values = self._values
        return [(key, *values[key]) for _, _, key in items]

    def next_due_ms(self) -> int | None:
        """The smallest ``due_ms`` set on a record, or ``None``."""
        index = self._index
        if index and index[0][0] == 0:
            return index[0][1]
        return None

    def evict(self, keep: int) -> list[tuple[str, Entry]]:
        """Delete the earliest-due records until at most ``keep`` remain.

        Records without ``due_ms`` are never deleted.

        Returns:
            The deleted ``(key, entry)`` pairs, earliest first.
        """
        excess = len(self._values) - keep
        if excess <= 0:
            return []
        index = self._index
        count = min(excess, bisect_left(index, _FIRST_UNDUE))
        victims = index[:count]
        del index[:count]
        values = self._values
        return [(key, values.pop(key)) for _, _, key in victims]
