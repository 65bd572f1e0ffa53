"""Device JIDs <-> addresses: the round trip, and every malformed JID a typed InvalidReceipt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.errors import InvalidReceipt
from axolotl.receipts.jid import address_from_jid, address_to_jid
from axolotl.receipts.limits import MAX_JID_LENGTH

_USER = st.text(alphabet="0123456789abcdefxyz._-+", min_size=1, max_size=40)


_SERVER = st.sampled_from(["s.whatsapp.net", "g.us", ""])


@given(user=_USER, device=st.integers(0, 2**32 - 1), server=_SERVER)
def test_round_trip(user: str, device: int, server: str) -> None:
    name = f"{user}@{server}" if server else user
    address = ProtocolAddress(name, device)
    assert address_from_jid(address_to_jid(address)) == address


@pytest.mark.parametrize(
    ("jid", "expected"),
    [
        ("123@s.whatsapp.net", ProtocolAddress("123@s.whatsapp.net", 0)),
        ("123:7@s.whatsapp.net", ProtocolAddress("123@s.whatsapp.net", 7)),
        ("123:0@s.whatsapp.net", ProtocolAddress("123@s.whatsapp.net", 0)),
        ("alice:4294967295", ProtocolAddress("alice", 2**32 - 1)),
    ],
)
def test_reads(jid: str, expected: ProtocolAddress) -> None:
    assert address_from_jid(jid) == expected


@pytest.mark.parametrize(
    "jid",
    [
        "",
        "@s.whatsapp.net",
        ":1@s.whatsapp.net",
        "a:@s.whatsapp.net",
        "a:x@s.whatsapp.net",
        "a:\u00b2@s.whatsapp.net",  # str.isdigit() says yes, int() says no
        "a:\u0661@s.whatsapp.net",  # Arabic-Indic one: int() would read 1
        "a:01@s.whatsapp.net",  # not canonical
        "a:+1@s.whatsapp.net",
        "a: 1@s.whatsapp.net",
        "a:4294967296@s.whatsapp.net",  # beyond a device id
        "a:" + "9" * 5000 + "@s.whatsapp.net",  # beyond int()'s digit limit
        "a" * (MAX_JID_LENGTH + 1),
        "a\x00b@s.whatsapp.net",
        "a\nregistration id: 1@s.whatsapp.net",
        "a\ud800@s.whatsapp.net",
    ],
)
def test_malformed_jid_is_invalid_receipt(jid: str) -> None:
    with pytest.raises(InvalidReceipt):
        address_from_jid(jid)


@given(st.text(max_size=300))
def test_any_text_is_an_address_or_invalid_receipt(jid: str) -> None:
    try:
        address = address_from_jid(jid)
    except InvalidReceipt:
        return
    assert isinstance(address, ProtocolAddress)
