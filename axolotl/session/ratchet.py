"""The Double Ratchet steps on a :class:`SessionState` (Double Ratchet spec, section 3).

Receiving is split in two so that trial decryption costs no copies and leaves
every state it rejects untouched:

* :func:`locate_message_key` finds the message-key seed for a counter
  *without changing the state*: it walks the receiving chain (spec 3.5
  ``SkipMessageKeys``, bounded by ``MAX_SKIP``) or, for a new ratchet key,
  computes the new receiving chain of the DH ratchet step (spec 3.5
  ``DHRatchet``) on the side. The work comes out of a :class:`TrialBudget`
  shared by every state one decrypt tries.
* :func:`commit_message_key` applies what was located, once the MAC verified:
  it stores the skipped keys, advances the chain, and for a new ratchet key
  installs the receiving chain and the new sending chain.

``next_sending_seed`` advances the sending chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from axolotl.crypto.curve import KEY_LEN, KeyPair, PublicKey
from axolotl.crypto.kdf import kdf_chain, kdf_next_chain_key, kdf_root
from axolotl.errors import DuplicateMessage, FutureMessage, InvalidMessage
from axolotl.rng import Rng
from axolotl.session.config import SessionConfig
from axolotl.session.state import ReceiverChain, SenderChain, SessionState

__all__ = [
    "LocatedKey",
    "TrialBudget",
    "commit_message_key",
    "locate_message_key",
    "next_sending_seed",
]


class TrialBudget:
    """The work one decrypt may spend across all the session states it tries.

    Each state costs one trial; a state without a chain for the message's
    ratchet key costs a DH ratchet step (an X25519 agreement and a root KDF);
    every chain key derived to walk past skipped counters costs a chain step. See
    :class:`~axolotl.session.config.SessionConfig` for the defaults and the
    worst case they give.
    """

    __slots__ = ("chain_steps", "ratchet_steps")

    def __init__(self, config: SessionConfig) -> None:
        self.chain_steps = config.max_trial_chain_steps
        self.ratchet_steps = config.max_trial_ratchet_steps

    def spend_chain_steps(self, steps: int, counter: int) -> None:
        """Take ``steps`` chain derivations, or raise when fewer remain."""
        if steps > self.chain_steps:
            raise InvalidMessage(
                f"trial decryption budget spent: counter {counter} needs {steps} chain steps, "
                f"{self.chain_steps} left of this decrypt's budget"
            )
        self.chain_steps -= steps

    def spend_ratchet_step(self) -> None:
        """Take one DH ratchet step, or raise when none remain."""
        if self.ratchet_steps <= 0:
            raise InvalidMessage("trial decryption budget spent: no DH ratchet step left")
        self.ratchet_steps -= 1


@dataclass(slots=True)
class LocatedKey:
    """A message key found on a state that has not been changed yet.

    Attributes:
        state: the state it was found on.
        seed: the message-key seed for ``counter``.
        counter: the message counter.
        chain: the existing receiving chain, or ``None`` for a new ratchet key.
        next_chain_key: the chain key after ``counter`` (empty for a kept skipped key).
        ratchet_key: the peer's ratchet key of the message.
        new_private: for a new ratchet key, the 32 private bytes drawn for our
            next sending key pair (drawn during the trial, in the order
            python-axolotl draws them, so transcripts replay).
        new_root_key: for a new ratchet key, the root key after the receiving step.
        new_chain_key: for a new ratchet key, the receiving chain key at index 0.
    """

    state: SessionState
    seed: bytes
    counter: int
    chain: ReceiverChain | None
    ratchet_key: PublicKey
    next_chain_key: bytes = b""
    new_private: bytes = b""
    new_root_key: bytes = b""
    new_chain_key: bytes = b""


def _walk(chain_key: bytes, steps: int) -> bytes:
    """The chain key ``steps`` derivations after ``chain_key`` (one HMAC a step)."""
    for _ in range(steps):
        chain_key = kdf_next_chain_key(chain_key)
    return chain_key


def _check_ahead(counter: int, index: int, config: SessionConfig) -> None:
    if counter - index > config.max_skip:
        raise FutureMessage(
            f"message counter {counter} is {counter - index} ahead of the chain "
            f"(limit {config.max_skip})",
            counter,
        )


def locate_message_key(
    state: SessionState,
    chain: ReceiverChain | None,
    ratchet_key: PublicKey,
    counter: int,
    rng: Rng,
    config: SessionConfig,
    budget: TrialBudget,
) -> LocatedKey:
    """The message-key seed for (``ratchet_key``, ``counter``) on ``state``, state unchanged.

    ``chain`` is ``state.receiver_chain(ratchet_key)``, which the caller has
    looked up already (to order the trials).

    Raises:
        DuplicateMessage: ``counter`` is behind the chain and its key was used.
        FutureMessage: ``counter`` lies more than ``config.max_skip`` ahead.
        InvalidMessage: the decrypt's :class:`TrialBudget` cannot pay for it.
    """
    if chain is not None:
        if counter < chain.index:
            seed = chain.skipped.get(counter)
            if seed is None:
                raise DuplicateMessage(
                    f"message counter {counter} already received (chain at {chain.index})",
                    counter,
                )
            return LocatedKey(state, seed, counter, chain, ratchet_key)
        _check_ahead(counter, chain.index, config)
        budget.spend_chain_steps(counter - chain.index, counter)
        seed, next_ck = kdf_chain(_walk(chain.chain_key, counter - chain.index))
        return LocatedKey(state, seed, counter, chain, ratchet_key, next_ck)
    budget.spend_ratchet_step()
    our = state.sender_chain.ratchet_key_pair
    root, receiving_ck = kdf_root(state.root_key, our.private_key.agree(ratchet_key))
    new_private = rng(KEY_LEN)
    _check_ahead(counter, 0, config)
    budget.spend_chain_steps(counter, counter)
    seed, next_ck = kdf_chain(_walk(receiving_ck, counter))
    return LocatedKey(
        state, seed, counter, None, ratchet_key, next_ck, new_private, root, receiving_ck
    )


def commit_message_key(located: LocatedKey, config: SessionConfig) -> None:
    """Apply ``located`` to its state: the message decrypted, its key is used up.

    For a new ratchet key this completes the DH ratchet step (spec 3.5
    ``DHRatchet``): the new receiving chain is kept (at most
    ``config.max_receiver_chains``) and a sending chain under the drawn key
    pair replaces ours. Skipped keys are stored, oldest evicted first beyond
    ``config.max_skipped_keys``.
    """
    state, counter = located.state, located.counter
    chain = located.chain
    if chain is None:
        pair = KeyPair.from_private(located.new_private)
        dh_out = pair.private_key.agree(located.ratchet_key)
        root, sending_ck = kdf_root(located.new_root_key, dh_out)
        chain = ReceiverChain(located.ratchet_key, located.new_chain_key, 0)
        state.receiver_chains.append(chain)
        del state.receiver_chains[: -config.max_receiver_chains]
        state.root_key = root
        state.previous_counter = max(state.sender_chain.index - 1, 0)
        state.sender_chain = SenderChain(pair, sending_ck, 0)
    elif counter < chain.index:
        del chain.skipped[counter]
        return
    # The trial derived only chain keys; the skipped ones' seeds are derived
    # here, for a genuine message alone.
    ck, index = chain.chain_key, chain.index
    while index < counter:
        chain.skipped[index], ck = kdf_chain(ck)
        index += 1
    chain.chain_key = located.next_chain_key
    chain.index = counter + 1
    if chain.skipped_count() and state.skipped_key_count() > config.max_skipped_keys:
        state.evict_skipped_keys(config.max_skipped_keys)


def next_sending_seed(chain: SenderChain) -> tuple[int, bytes]:
    """Advance the sending chain; return (counter used, message-key seed)."""
    seed, chain.chain_key = kdf_chain(chain.chain_key)
    index = chain.index
    chain.index += 1
    return index, seed
