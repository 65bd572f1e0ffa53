from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChainPosition(_message.Message):
    __slots__ = ("ratchet_key", "counter")
    RATCHET_KEY_FIELD_NUMBER: _ClassVar[int]
    COUNTER_FIELD_NUMBER: _ClassVar[int]
    ratchet_key: bytes
    counter: int
    def __init__(self, ratchet_key: _Optional[bytes] = ..., counter: _Optional[int] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("name", "device_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    device_id: int
    def __init__(self, name: _Optional[str] = ..., device_id: _Optional[int] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("message_id", "sender", "recipient", "type", "body", "timestamp_ms", "retry_count", "group_id", "priority")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sender: Address
    recipient: Address
    type: int
    body: bytes
    timestamp_ms: int
    retry_count: int
    group_id: str
    priority: int
    def __init__(self, message_id: _Optional[str] = ..., sender: _Optional[_Union[Address, _Mapping]] = ..., recipient: _Optional[_Union[Address, _Mapping]] = ..., type: _Optional[int] = ..., body: _Optional[bytes] = ..., timestamp_ms: _Optional[int] = ..., retry_count: _Optional[int] = ..., group_id: _Optional[str] = ..., priority: _Optional[int] = ...) -> None: ...

class OutboxEntry(_message.Message):
    __slots__ = ("envelope", "transmissions", "version")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    TRANSMISSIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    envelope: Envelope
    transmissions: int
    version: int
    def __init__(self, envelope: _Optional[_Union[Envelope, _Mapping]] = ..., transmissions: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class DeviceState(_message.Message):
    __slots__ = ("device", "state", "receipts_answered", "last_count", "base_key_at_answer", "registration_id", "sent")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    LAST_COUNT_FIELD_NUMBER: _ClassVar[int]
    BASE_KEY_AT_ANSWER_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    device: Address
    state: int
    receipts_answered: int
    last_count: int
    base_key_at_answer: bytes
    registration_id: int
    sent: _containers.RepeatedCompositeFieldContainer[ChainPosition]
    def __init__(self, device: _Optional[_Union[Address, _Mapping]] = ..., state: _Optional[int] = ..., receipts_answered: _Optional[int] = ..., last_count: _Optional[int] = ..., base_key_at_answer: _Optional[bytes] = ..., registration_id: _Optional[int] = ..., sent: _Optional[_Iterable[_Union[ChainPosition, _Mapping]]] = ...) -> None: ...

class SendLogEntry(_message.Message):
    __slots__ = ("message_id", "plaintext", "timestamp_ms", "group_id", "priority", "devices", "expires_ms", "version")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    plaintext: bytes
    timestamp_ms: int
    group_id: str
    priority: int
    devices: _containers.RepeatedCompositeFieldContainer[DeviceState]
    expires_ms: int
    version: int
    def __init__(self, message_id: _Optional[str] = ..., plaintext: _Optional[bytes] = ..., timestamp_ms: _Optional[int] = ..., group_id: _Optional[str] = ..., priority: _Optional[int] = ..., devices: _Optional[_Iterable[_Union[DeviceState, _Mapping]]] = ..., expires_ms: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class ReceiveRecord(_message.Message):
    __slots__ = ("message_id", "sender", "state", "count", "reason", "timestamp_ms", "group_id", "priority", "no_session", "failed", "version")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    NO_SESSION_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sender: Address
    state: int
    count: int
    reason: int
    timestamp_ms: int
    group_id: str
    priority: int
    no_session: bool
    failed: _containers.RepeatedScalarFieldContainer[bytes]
    version: int
    def __init__(self, message_id: _Optional[str] = ..., sender: _Optional[_Union[Address, _Mapping]] = ..., state: _Optional[int] = ..., count: _Optional[int] = ..., reason: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., group_id: _Optional[str] = ..., priority: _Optional[int] = ..., no_session: _Optional[bool] = ..., failed: _Optional[_Iterable[bytes]] = ..., version: _Optional[int] = ...) -> None: ...

class GapRecord(_message.Message):
    __slots__ = ("sender", "next", "missing", "seen_ms", "arrived", "version")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    sender: Address
    next: int
    missing: _containers.RepeatedScalarFieldContainer[int]
    seen_ms: _containers.RepeatedScalarFieldContainer[int]
    arrived: _containers.RepeatedScalarFieldContainer[int]
    version: int
    def __init__(self, sender: _Optional[_Union[Address, _Mapping]] = ..., next: _Optional[int] = ..., missing: _Optional[_Iterable[int]] = ..., seen_ms: _Optional[_Iterable[int]] = ..., arrived: _Optional[_Iterable[int]] = ..., version: _Optional[int] = ...) -> None: ...

class InboxEntry(_message.Message):
    __slots__ = ("message_id", "sender", "plaintext", "group_id", "version")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sender: Address
    plaintext: bytes
    group_id: str
    version: int
    def __init__(self, message_id: _Optional[str] = ..., sender: _Optional[_Union[Address, _Mapping]] = ..., plaintext: _Optional[bytes] = ..., group_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PendingReport(_message.Message):
    __slots__ = ("kind", "message_id", "address", "reason", "count", "version")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[PendingReport.Kind]
        UNDECRYPTABLE: _ClassVar[PendingReport.Kind]
        SEND_FAILED: _ClassVar[PendingReport.Kind]
    KIND_UNSPECIFIED: PendingReport.Kind
    UNDECRYPTABLE: PendingReport.Kind
    SEND_FAILED: PendingReport.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    kind: PendingReport.Kind
    message_id: str
    address: Address
    reason: int
    count: int
    version: int
    def __init__(self, kind: _Optional[_Union[PendingReport.Kind, str]] = ..., message_id: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., reason: _Optional[int] = ..., count: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class MintedPreKeys(_message.Message):
    __slots__ = ("pre_key_ids", "minted_ms", "version")
    PRE_KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    MINTED_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    pre_key_ids: _containers.RepeatedScalarFieldContainer[int]
    minted_ms: _containers.RepeatedScalarFieldContainer[int]
    version: int
    def __init__(self, pre_key_ids: _Optional[_Iterable[int]] = ..., minted_ms: _Optional[_Iterable[int]] = ..., version: _Optional[int] = ...) -> None: ...

class KeyHandoverRecord(_message.Message):
    __slots__ = ("key_id", "confirmed", "carriers", "version")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    CARRIERS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    key_id: int
    confirmed: bool
    carriers: _containers.RepeatedScalarFieldContainer[str]
    version: int
    def __init__(self, key_id: _Optional[int] = ..., confirmed: _Optional[bool] = ..., carriers: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ...) -> None: ...

class DeviceIncarnationRecord(_message.Message):
    __slots__ = ("registration_id", "changed_ms", "rebuilt_ms", "rebuilt_registration_id", "version")
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_MS_FIELD_NUMBER: _ClassVar[int]
    REBUILT_MS_FIELD_NUMBER: _ClassVar[int]
    REBUILT_REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    registration_id: int
    changed_ms: int
    rebuilt_ms: int
    rebuilt_registration_id: int
    version: int
    def __init__(self, registration_id: _Optional[int] = ..., changed_ms: _Optional[int] = ..., rebuilt_ms: _Optional[int] = ..., rebuilt_registration_id: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class Counter(_message.Message):
    __slots__ = ("value", "version")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    value: int
    version: int
    def __init__(self, value: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class SchedulingClock(_message.Message):
    __slots__ = ("offset_ms", "last_ms", "version")
    OFFSET_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    offset_ms: int
    last_ms: int
    version: int
    def __init__(self, offset_ms: _Optional[int] = ..., last_ms: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class BundleWait(_message.Message):
    __slots__ = ("sender", "message_ids", "counts", "asked_ms", "version")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ASKED_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    sender: Address
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.RepeatedScalarFieldContainer[int]
    asked_ms: int
    version: int
    def __init__(self, sender: _Optional[_Union[Address, _Mapping]] = ..., message_ids: _Optional[_Iterable[str]] = ..., counts: _Optional[_Iterable[int]] = ..., asked_ms: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class UnplacedFailures(_message.Message):
    __slots__ = ("sender", "failures", "version")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    sender: Address
    failures: _containers.RepeatedCompositeFieldContainer[Unplaced]
    version: int
    def __init__(self, sender: _Optional[_Union[Address, _Mapping]] = ..., failures: _Optional[_Iterable[_Union[Unplaced, _Mapping]]] = ..., version: _Optional[int] = ...) -> None: ...

class Unplaced(_message.Message):
    __slots__ = ("message_id", "retry_count", "ratchet_key", "counter", "seen_ms")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    RATCHET_KEY_FIELD_NUMBER: _ClassVar[int]
    COUNTER_FIELD_NUMBER: _ClassVar[int]
    SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    retry_count: int
    ratchet_key: bytes
    counter: int
    seen_ms: int
    def __init__(self, message_id: _Optional[str] = ..., retry_count: _Optional[int] = ..., ratchet_key: _Optional[bytes] = ..., counter: _Optional[int] = ..., seen_ms: _Optional[int] = ...) -> None: ...
