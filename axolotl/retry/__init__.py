"""The retry layer: events in, actions out; policy, send log, counters, dedup."""

from axolotl.receipts.jid import address_from_jid, address_to_jid
from axolotl.retry._context import LayerStats
from axolotl.retry.batch import Batch
from axolotl.retry.events import (
    Ack,
    Action,
    Deliver,
    DeliveryReceipt,
    Envelope,
    FetchBundle,
    Gap,
    SendFailed,
    SendFailure,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.layer import RetryLayer
from axolotl.retry.policy import DEFAULT_POLICY, Backoff, Priority, PriorityClass, RetryPolicy
from axolotl.retry.stanza import (
    MessageStanza,
    envelope_to_node,
    envelopes_to_node,
    parse_message_node,
)

__all__ = [
    "DEFAULT_POLICY",
    "Ack",
    "Action",
    "Backoff",
    "Batch",
    "Deliver",
    "DeliveryReceipt",
    "Envelope",
    "FetchBundle",
    "Gap",
    "LayerStats",
    "MessageStanza",
    "Priority",
    "PriorityClass",
    "RetryLayer",
    "RetryPolicy",
    "SendFailed",
    "SendFailure",
    "SendReceipt",
    "Transmit",
    "Undecryptable",
    "WakeAt",
    "address_from_jid",
    "address_to_jid",
    "envelope_to_node",
    "envelopes_to_node",
    "parse_message_node",
]
