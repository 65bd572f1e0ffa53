"""Stored counters that order what the layer must forget first (never the clock).

Each counter is one record of kind ``records.SEQ`` (a versioned ``Counter``):
``delivery`` orders the inbox and the eviction of delivered ids, ``send`` the
eviction of used message ids. A counter that did not exist yet starts above
every ``due`` of the kind it orders, so records written before it (which
carried a time in ms) are still forgotten first.
"""

from __future__ import annotations

from axolotl._pb import retry_state_pb2 as pb
from axolotl.retry._context import Context
from axolotl.retry.records import SEQ, VERSION, parse_stored

__all__ = ["next_value"]


def next_value(ctx: Context, name: str, orders: str) -> int:
    """Advance the counter ``name`` (which orders records of kind ``orders``) and return it.

    Raises:
        StorageError: the stored counter is corrupt or from a newer version.
    """
    store = ctx.store
    data = store.get_record(SEQ, name)
    if data is None:
        value = max((due for _, _, due in store.records(orders) if due is not None), default=0)
    else:
        counter = pb.Counter()
        parse_stored(counter, data, f"counter {name!r}")
        value = counter.value
    value += 1
    store.put_record(SEQ, name, pb.Counter(value=value, version=VERSION).SerializeToString())
    return value
