from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RetryReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN_ERROR: _ClassVar[RetryReason]
    NO_SESSION: _ClassVar[RetryReason]
    INVALID_KEY: _ClassVar[RetryReason]
    INVALID_KEY_ID: _ClassVar[RetryReason]
    INVALID_MESSAGE: _ClassVar[RetryReason]
    INVALID_SIGNATURE: _ClassVar[RetryReason]
    FUTURE_MESSAGE: _ClassVar[RetryReason]
    BAD_MAC: _ClassVar[RetryReason]
    INVALID_SESSION: _ClassVar[RetryReason]
    INVALID_MESSAGE_KEY: _ClassVar[RetryReason]
UNKNOWN_ERROR: RetryReason
NO_SESSION: RetryReason
INVALID_KEY: RetryReason
INVALID_KEY_ID: RetryReason
INVALID_MESSAGE: RetryReason
INVALID_SIGNATURE: RetryReason
FUTURE_MESSAGE: RetryReason
BAD_MAC: RetryReason
INVALID_SESSION: RetryReason
INVALID_MESSAGE_KEY: RetryReason

class RetryKeyBundle(_message.Message):
    __slots__ = ("key_type", "identity", "pre_key_id", "pre_key", "signed_pre_key_id", "signed_pre_key", "signed_pre_key_signature", "device_identity")
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PRE_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PRE_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNED_PRE_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNED_PRE_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNED_PRE_KEY_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    key_type: int
    identity: bytes
    pre_key_id: int
    pre_key: bytes
    signed_pre_key_id: int
    signed_pre_key: bytes
    signed_pre_key_signature: bytes
    device_identity: bytes
    def __init__(self, key_type: _Optional[int] = ..., identity: _Optional[bytes] = ..., pre_key_id: _Optional[int] = ..., pre_key: _Optional[bytes] = ..., signed_pre_key_id: _Optional[int] = ..., signed_pre_key: _Optional[bytes] = ..., signed_pre_key_signature: _Optional[bytes] = ..., device_identity: _Optional[bytes] = ...) -> None: ...

class RetryReceipt(_message.Message):
    __slots__ = ("direction", "message_id", "remote_jid", "participant", "recipient", "count", "version", "timestamp", "receipt_timestamp", "registration_id", "reason", "keys")
    class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTGOING: _ClassVar[RetryReceipt.Direction]
        INCOMING: _ClassVar[RetryReceipt.Direction]
    OUTGOING: RetryReceipt.Direction
    INCOMING: RetryReceipt.Direction
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REMOTE_JID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    direction: RetryReceipt.Direction
    message_id: str
    remote_jid: str
    participant: str
    recipient: str
    count: int
    version: int
    timestamp: int
    receipt_timestamp: int
    registration_id: int
    reason: int
    keys: RetryKeyBundle
    def __init__(self, direction: _Optional[_Union[RetryReceipt.Direction, str]] = ..., message_id: _Optional[str] = ..., remote_jid: _Optional[str] = ..., participant: _Optional[str] = ..., recipient: _Optional[str] = ..., count: _Optional[int] = ..., version: _Optional[int] = ..., timestamp: _Optional[int] = ..., receipt_timestamp: _Optional[int] = ..., registration_id: _Optional[int] = ..., reason: _Optional[int] = ..., keys: _Optional[_Union[RetryKeyBundle, _Mapping]] = ...) -> None: ...

class DecryptionErrorMessage(_message.Message):
    __slots__ = ("ratchet_key", "timestamp", "device_id")
    RATCHET_KEY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ratchet_key: bytes
    timestamp: int
    device_id: int
    def __init__(self, ratchet_key: _Optional[bytes] = ..., timestamp: _Optional[int] = ..., device_id: _Optional[int] = ...) -> None: ...

class PlaintextContentBody(_message.Message):
    __slots__ = ("decryption_error_message",)
    DECRYPTION_ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    decryption_error_message: bytes
    def __init__(self, decryption_error_message: _Optional[bytes] = ...) -> None: ...
