"""Hostile retry receipts: numbers in one canonical syntax, never an untyped escape."""

from __future__ import annotations

import pytest

from axolotl.errors import InvalidReceipt, RemoteError
from axolotl.receipts import IncomingRetryReceipt, Node, parse_text, receipt_from_node


def _parse(count: str = "1", t: str = "1432833266") -> IncomingRetryReceipt:
    return receipt_from_node(_node(count, t), IncomingRetryReceipt)


def _node(count: str, t: str) -> Node:
    return Node(
        "receipt",
        {"from": "491234@s.whatsapp.net", "id": "3EB0A1", "type": "retry"},
        [
            Node("retry", {"count": count, "id": "3EB0A1", "t": t, "v": "1"}),
            Node("registration", {}, (), bytes.fromhex("00003039")),
        ],
    )


def test_a_canonical_receipt_parses() -> None:
    assert _parse().timestamp == 1432833266


_BAD_T = ["1" * 21, "01432833266", "+1", "-1", " 1", "1e3", "\u0661"]


@pytest.mark.parametrize("t", _BAD_T)
def test_a_non_canonical_or_huge_retry_t_is_an_invalid_receipt(t: str) -> None:
    with pytest.raises(InvalidReceipt, match=r"retry\.t"):
        _parse(t=t)


@pytest.mark.parametrize("count", ["01", "00", "+1", "1" * 25, "0"])
def test_a_non_canonical_count_is_an_invalid_receipt(count: str) -> None:
    with pytest.raises(InvalidReceipt, match=r"retry\.count"):
        _parse(count=count)


@pytest.mark.parametrize("field", ["t", "count"])
def test_a_4301_digit_number_from_a_peer_is_a_remote_error_never_a_value_error(field: str) -> None:
    attrs = {"count": "1", "id": "3EB0A1", "t": "1", "v": "1", field: "9" * 4301}
    text = (
        '<receipt from="491234@s.whatsapp.net" id="3EB0A1" type="retry"><retry '
        + " ".join(f'{k}="{v}"' for k, v in attrs.items())
        + "/><registration>\\x00\\x000\\x39</registration></receipt>"
    )
    with pytest.raises(RemoteError):
        receipt_from_node(parse_text(text), IncomingRetryReceipt)
