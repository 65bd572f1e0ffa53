"""The retry-record counts a PostgreSQL transaction has yet to write.

``axolotl_retry_record_counts`` holds the rows per (owner, kind). Updating that
row on every insert and delete would cost PostgreSQL a walk of every earlier
version of it on each update (thousands in one step), so each write adds its
change to a per-kind delta held here for the open transaction, and the sums
are written once, in the same round trip as ``COMMIT``. The deltas follow the
transaction's blocks: saved when an inner block opens, restored when it rolls
back, as the rows themselves are.
"""

from __future__ import annotations

from psycopg import sql

__all__ = ["PendingCounts"]


class PendingCounts:
    """Inserted minus deleted retry records per kind, in one store's open transaction.

    Args:
        owner: the store's owner (the counts' rows are keyed by it).
    """

    __slots__ = ("_deltas", "_marks", "_owner")

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._deltas: dict[bytes, int] = {}
        # A copy of _deltas at the start of each open inner block, innermost last.
        self._marks: list[dict[bytes, int]] = []

    def add(self, kind: bytes, change: int) -> None:
        """Count ``change`` more rows (fewer, if negative) of ``kind`` (UTF-8)."""
        if change:
            self._deltas[kind] = self._deltas.get(kind, 0) + change

    def pending(self, kind: bytes) -> int:
        """The change to the stored count of ``kind`` not yet written."""
        return self._deltas.get(kind, 0)

    # -- following the transaction's blocks -----------------------------------

    def reset(self) -> None:
        """Forget everything: the outermost transaction begins or ends."""
        self._deltas = {}
        self._marks = []

    def savepoint(self) -> None:
        """An inner block opens."""
        self._marks.append(dict(self._deltas))

    def release(self) -> None:
        """The innermost block ends and keeps what it counted."""
        self._marks.pop()

    def rollback_to(self) -> None:
        """The innermost block rolls back: drop what it counted."""
        self._deltas = self._marks.pop()

    def flush_sql(self) -> sql.Composable | None:
        """The statement writing the pending counts, or ``None`` when nothing changed.

        It holds literals only, so it can share a round trip with ``COMMIT``.
        """
        changed = [(kind, n) for kind, n in self._deltas.items() if n]
        if not changed:
            return None
        owner = sql.Literal(self._owner)
        rows = sql.SQL(", ").join(
            sql.SQL("({}, {}, {})").format(owner, sql.Literal(kind), sql.Literal(n))
            for kind, n in changed
        )
        return sql.SQL(
            "INSERT INTO axolotl_retry_record_counts (owner, kind, n) VALUES {} "
            "ON CONFLICT (owner, kind) DO UPDATE SET n = axolotl_retry_record_counts.n + excluded.n"
        ).format(rows)
