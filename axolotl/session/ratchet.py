"""The Double Ratchet steps on a :class:`SessionState` (Double Ratchet spec, section 3).

Pure functions that mutate a state the caller loaded as a private copy:
``ratchet_receiving_chain`` performs the DH ratchet step when a new ratchet
key arrives (spec 3.5 ``DHRatchet``), ``message_key_seed`` walks a receiving
chain to a counter, keeping skipped keys within the configured bounds (spec
3.5 ``SkipMessageKeys``, ``MAX_SKIP``), and ``next_sending_seed`` advances
the sending chain.
"""

from __future__ import annotations

from axolotl.crypto.curve import KeyPair, PublicKey
from axolotl.crypto.kdf import kdf_chain, kdf_root
from axolotl.errors import DuplicateMessage, FutureMessage
from axolotl.rng import Rng
from axolotl.session.config import SessionConfig
from axolotl.session.state import ReceiverChain, SenderChain, SessionState

__all__ = ["ratchet_receiving_chain", "message_key_seed", "next_sending_seed"]


def ratchet_receiving_chain(
    state: SessionState, their_ratchet_key: PublicKey, rng: Rng, config: SessionConfig
) -> ReceiverChain:
    """The receiving chain for ``their_ratchet_key``, taking a DH ratchet step if it is new.

    A new key gives a new receiving chain (root KDF with our current ratchet
    private key) and a new sending chain under a fresh key pair drawn from ``rng``.
    """
    chain = state.receiver_chain(their_ratchet_key)
    if chain is not None:
        return chain
    our = state.sender_chain.ratchet_key_pair
    root, receiving_ck = kdf_root(state.root_key, our.private_key.agree(their_ratchet_key))
    new_pair = KeyPair.generate(rng)
    root, sending_ck = kdf_root(root, new_pair.private_key.agree(their_ratchet_key))
    chain = ReceiverChain(their_ratchet_key, receiving_ck, 0)
    state.receiver_chains.append(chain)
    del state.receiver_chains[: -config.max_receiver_chains]
    state.root_key = root
    state.previous_counter = max(state.sender_chain.index - 1, 0)
    state.sender_chain = SenderChain(new_pair, sending_ck, 0)
    return chain


def message_key_seed(
    state: SessionState, chain: ReceiverChain, counter: int, config: SessionConfig
) -> bytes:
    """The message-key seed for ``counter`` on ``chain``, advancing the chain past it.

    Raises:
        DuplicateMessage: ``counter`` is behind the chain and its key was used.
        FutureMessage: ``counter`` lies more than ``config.max_skip`` ahead.
    """
    if counter < chain.index:
        seed = chain.skipped.pop(counter, None)
        if seed is None:
            raise DuplicateMessage(
                f"message counter {counter} already received (chain at {chain.index})", counter
            )
        return seed
    if counter - chain.index > config.max_skip:
        raise FutureMessage(
            f"message counter {counter} is {counter - chain.index} ahead of the chain "
            f"(limit {config.max_skip})",
            counter,
        )
    ck = chain.chain_key
    index = chain.index
    while index < counter:
        seed, ck = kdf_chain(ck)
        chain.skipped[index] = seed
        index += 1
    seed, ck = kdf_chain(ck)
    chain.chain_key = ck
    chain.index = index + 1
    if len(chain.skipped) and state.skipped_key_count() > config.max_skipped_keys:
        state.evict_skipped_keys(config.max_skipped_keys)
    return seed


def next_sending_seed(chain: SenderChain) -> tuple[int, bytes]:
    """Advance the sending chain; return (counter used, message-key seed)."""
    seed, chain.chain_key = kdf_chain(chain.chain_key)
    index = chain.index
    chain.index += 1
    return index, seed
