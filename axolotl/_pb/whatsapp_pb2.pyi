from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Message(_message.Message):
    __slots__ = ("conversation", "sender_key_distribution_message")
    class SenderKeyDistributionMessage(_message.Message):
        __slots__ = ("group_id", "axolotl_sender_key_distribution_message")
        GROUP_ID_FIELD_NUMBER: _ClassVar[int]
        AXOLOTL_SENDER_KEY_DISTRIBUTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        group_id: bytes
        axolotl_sender_key_distribution_message: bytes
        def __init__(self, group_id: _Optional[bytes] = ..., axolotl_sender_key_distribution_message: _Optional[bytes] = ...) -> None: ...
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    SENDER_KEY_DISTRIBUTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    conversation: str
    sender_key_distribution_message: Message.SenderKeyDistributionMessage
    def __init__(self, conversation: _Optional[str] = ..., sender_key_distribution_message: _Optional[_Union[Message.SenderKeyDistributionMessage, _Mapping]] = ...) -> None: ...
