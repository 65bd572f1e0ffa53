"""Transcript vectors: fresh generation equals the committed files; replay catches deviations."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axolotl.rng import DeterministicRng
from axolotl.testvectors import MalformedVector, VectorMismatch, default_vector_dir
from axolotl.testvectors.transcripts import OPS, check
from vectors.generators.recording import RecordingRng

ROOT = Path(__file__).resolve().parents[1]
VECTORS = default_vector_dir()

Json = dict[str, Any]


def _generator() -> ModuleType:
    path = ROOT / "vectors" / "generators" / "gen_transcripts.py"
    spec = importlib.util.spec_from_file_location("gen_transcripts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _case(filename: str) -> Json:
    case: Json = json.loads((VECTORS / filename).read_text())["cases"][0]
    return case


def _step(case: Json, op: str, **where: Any) -> Json:
    for step in case["steps"]:
        if step["op"] == op and all(step.get(k) == v for k, v in where.items()):
            return step  # type: ignore[no-any-return]
    raise AssertionError(f"no {op} step with {where}")


@pytest.mark.parametrize("filename", sorted(GEN.TRANSCRIPTS))
def test_committed_transcript_equals_fresh_generation(filename: str) -> None:
    committed = (VECTORS / filename).read_text()
    assert committed == GEN.build(filename), (
        f"{filename} differs from a fresh generation: "
        "run .venv/bin/python vectors/generators/gen_transcripts.py"
    )


def test_every_transcript_file_has_a_generator() -> None:
    on_disk = {p.name for p in VECTORS.glob("transcript_*.json")}
    assert on_disk == set(GEN.TRANSCRIPTS)


def test_recording_rng_logs_size_bytes_and_caller() -> None:
    rng = RecordingRng(DeterministicRng(b"x"))
    first, second = rng(4), rng(32)
    reference = DeterministicRng(b"x")
    assert (first, second) == (reference(4), reference(32))
    draws = rng.take()
    assert [(d.n, d.data) for d in draws] == [(4, first), (32, second)]
    assert rng.take() == []


def test_the_transcripts_show_what_the_issue_asks_for() -> None:
    pairwise = _case("transcript_pairwise.json")
    results = [s["expect"] for s in pairwise["steps"]]
    assert {"error": "DuplicateMessage"} in results
    assert {"plaintext": ""} in results
    assert {"plaintext": bytes(range(16)).hex()} in results
    assert {"plaintext": bytes(range(32)).hex()} in results
    bundle_step = _step(pairwise, "process_bundle")
    assert [d["n"] for d in bundle_step["draws"]] == [32, 32]

    wiped = _case("transcript_retry_wiped_session.json")
    receipt = _step(wiped, "receive", party="bob", note=None)
    texts = [
        a["node_text"]
        for s in wiped["steps"]
        for a in s["expect"].get("actions", [])
        if a["action"] == "send_receipt"
    ]
    assert len(texts) == 1 and 'count="1"' in texts[0] and "<keys>" in texts[0]
    assert receipt

    count2 = _case("transcript_retry_keys_at_count_2.json")
    texts = [
        a["node_text"]
        for s in count2["steps"]
        for a in s["expect"].get("actions", [])
        if a["action"] == "send_receipt"
    ]
    assert ['count="1"' in t and "<keys>" not in t for t in texts[:1]] == [True]
    assert 'count="2"' in texts[1] and "<keys>" in texts[1]

    budget = _case("transcript_retry_budget_exhausted.json")
    last = budget["steps"][-1]["expect"]["actions"][0]
    assert last["action"] == "undecryptable" and last["count"] == 5


# -- replay catches deviations -------------------------------------------------------


def test_a_changed_wire_byte_names_the_step_and_the_first_differing_byte() -> None:
    case = _case("transcript_pairwise.json")
    step = _step(case, "encrypt", party="bob")
    body = bytearray(bytes.fromhex(step["expect"]["body"]))
    body[40] ^= 0xFF
    step["expect"]["body"] = body.hex()
    with pytest.raises(VectorMismatch) as info:
        check(case)
    assert not isinstance(info.value, MalformedVector)
    assert f"step {step['step']} (encrypt)" in str(info.value)
    assert "first differing byte at offset 40" in str(info.value)


def test_a_changed_draw_changes_the_bytes() -> None:
    case = _case("transcript_retry_corrupted.json")
    step = _step(case, "process_bundle")
    step["draws"][1]["hex"] = "00" * 32  # alice's first sending ratchet key
    with pytest.raises(VectorMismatch, match=r"first differing byte"):
        check(case)


def test_a_missing_draw_and_a_left_over_draw_are_named() -> None:
    case = _case("transcript_pairwise.json")
    step = _step(case, "process_bundle")
    fewer = copy.deepcopy(case)
    _step(fewer, "process_bundle")["draws"].pop()
    with pytest.raises(VectorMismatch, match=rf"step {step['step']} .*no further draw"):
        check(fewer)
    more = copy.deepcopy(case)
    _step(more, "process_bundle")["draws"].append({"n": 4, "hex": "00000000", "use": ""})
    with pytest.raises(VectorMismatch, match=r"fewer than recorded"):
        check(more)
    resized = copy.deepcopy(case)
    _step(resized, "process_bundle")["draws"][0] = {"n": 16, "hex": "00" * 16, "use": ""}
    with pytest.raises(VectorMismatch, match=r"drew 32 bytes where the transcript records 16"):
        check(resized)


def test_an_expected_error_is_compared_by_class() -> None:
    case = _case("transcript_pairwise.json")
    step = _step(case, "decrypt", expect={"error": "DuplicateMessage"})
    step["expect"] = {"error": "FutureMessage"}
    with pytest.raises(VectorMismatch, match="DuplicateMessage"):
        check(case)


def test_a_receipt_whose_node_and_protobuf_disagree_is_a_mismatch() -> None:
    case = _case("transcript_retry_corrupted.json")
    step = _step(case, "receive_receipt")
    step["receipt"]["node_text"] = step["receipt"]["node_text"].replace('count="1"', 'count="2"')
    with pytest.raises(VectorMismatch, match="node text and protobuf bytes disagree"):
        check(case)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(op="teleport"), "unknown op 'teleport'"),
        (lambda s: s.update(plaintext="zz"), "field 'plaintext' is not hex"),
        (lambda s: s["draws"].append({"n": 2, "hex": "0g0g"}), "field 'hex' is not hex"),
        (lambda s: s.pop("peer"), "field 'peer' is missing"),
        (lambda s: s.update(peer="mallory"), "names party 'mallory'"),
        (lambda s: s.update(colour="blue"), "field 'colour' is not an input of encrypt"),
        (lambda s: s.update(step=99), "field 'step' is 99"),
        (lambda s: s.pop("expect"), "field 'expect' is missing"),
    ],
)
def test_malformed_steps_name_the_step(mutate: Any, message: str) -> None:
    case = _case("transcript_pairwise.json")
    step = _step(case, "encrypt", party="alice")
    index = step["step"]
    mutate(step)
    with pytest.raises(MalformedVector) as info:
        check(case)
    assert f"step {index}" in str(info.value)
    assert message in str(info.value)


def test_a_case_without_steps_is_malformed() -> None:
    with pytest.raises(MalformedVector):
        check({"name": "empty", "steps": []})


def test_every_op_is_used_by_some_transcript() -> None:
    used = {s["op"] for f in GEN.TRANSCRIPTS for s in _case(f)["steps"]}
    assert used == set(OPS)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_RETRY = _case("transcript_retry_group_no_sender_key.json")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hostile_edits_raise_only_vector_errors(data: st.DataObject) -> None:
    case = copy.deepcopy(_RETRY)
    step = data.draw(st.sampled_from(case["steps"]))
    key = data.draw(st.sampled_from(sorted(step)))
    target: Json = step
    if isinstance(step[key], dict) and step[key] and data.draw(st.booleans()):
        target = step[key]
        key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(_JSON)
    with contextlib.suppress(VectorMismatch):  # anything else escaping is the bug
        check(case)
