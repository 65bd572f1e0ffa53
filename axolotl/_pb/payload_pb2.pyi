from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Payload(_message.Message):
    __slots__ = ("body", "sender_key_distribution", "group_id", "replaces")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SENDER_KEY_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    sender_key_distribution: bytes
    group_id: str
    replaces: _containers.RepeatedCompositeFieldContainer[ChainPosition]
    def __init__(self, body: _Optional[bytes] = ..., sender_key_distribution: _Optional[bytes] = ..., group_id: _Optional[str] = ..., replaces: _Optional[_Iterable[_Union[ChainPosition, _Mapping]]] = ...) -> None: ...

class ChainPosition(_message.Message):
    __slots__ = ("ratchet_key", "counter")
    RATCHET_KEY_FIELD_NUMBER: _ClassVar[int]
    COUNTER_FIELD_NUMBER: _ClassVar[int]
    ratchet_key: bytes
    counter: int
    def __init__(self, ratchet_key: _Optional[bytes] = ..., counter: _Optional[int] = ...) -> None: ...
