"""The audit chain: canonical JSON (RFC 8785), linking, verification that names the first
broken link (edited, deleted, reordered, relinked, malformed), streaming in constant
memory, and Ed25519 checkpoints."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import random
import struct
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.audit.chain import (
    GENESIS,
    BreakKind,
    Checkpoint,
    Entry,
    EntryFields,
    canonical_json,
    checkpoint_from_json,
    checkpoint_message,
    checkpoint_to_json,
    entry_hash,
    entry_json,
    fingerprint,
    generate_key,
    json_number,
    link,
    load_private_key,
    load_public_key,
    payload_digest,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    time_text,
    verify,
    verify_checkpoint,
)
from loopwise.core.errors import InvalidInput

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=200)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACTIONS = ("gate.approve", "waiver.grant", "model.promote", "dataset.read_personal")


def fields(seq: int) -> EntryFields:
    return EntryFields(
        seq=seq,
        time=T0 + timedelta(seconds=seq, microseconds=seq % 7),
        actor=f"usr_{seq % 5}",
        action=ACTIONS[seq % len(ACTIONS)],
        object=f"gate:gat_{seq % 11}",
        outcome="ok" if seq % 3 else "refused",
        reason="" if seq % 2 else f"waived for cycle {seq}: see RISK-{seq % 9}",
        payload_digest=payload_digest({"seq": seq, "row": [seq, seq / 3, None, True]}),
    )


def entries(n: int, start: int = 1, previous: str = GENESIS) -> Iterator[Entry]:
    for seq in range(start, start + n):
        entry = link(previous, fields(seq))
        previous = entry.hash
        yield entry


def chain(n: int) -> list[Entry]:
    return list(entries(n))


CHAIN = chain(50)


# --- canonical JSON ----------------------------------------------------------------------

# RFC 8785 appendix B: IEEE 754 bit patterns and the text every implementation must print.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), RFC8785_NUMBERS)
def test_numbers_print_as_rfc_8785_says(bits: str, text: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert json_number(value) == text
    assert canonical_json(value) == text.encode()


def test_rfc_8785_key_order_and_escapes() -> None:
    # 3.2.3: keys sort by UTF-16 code units, so U+1F600 (D83D DE00) comes before U+FB33
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    document = {key: i for i, key in enumerate(keys)}
    assert list(json.loads(canonical_json(document))) == [
        "\r",
        "1",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\U0001f600",
        "\ufb33",
    ]
    assert canonical_json({"b": [1, 2.0, "x"], "a": {"\x1f": '\n"\\/\x7f\u2028é'}}) == (
        '{"a":{"\\u001f":"\\n\\"\\\\/\x7f\u2028é"},"b":[1,2,"x"]}'.encode()
    )
    assert canonical_json([None, True, False, -0.0, 1e21, 1e-7, 90.0, 90, 2**60, -(2**53)]) == (
        b"[null,true,false,0,1e+21,1e-7,90,90,1152921504606847000,-9007199254740992]"
    )
    # past 2**53: a double exactly, or written just as its double prints; nothing rounded
    assert canonical_json(123456789012345660) == b"123456789012345660"
    assert (
        canonical_json(json.loads(canonical_json(1.2345678901234566e17))) == b"123456789012345660"
    )


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        [-math.inf],
        2**53 + 1,
        -(2**60) - 1,
        10**400,
        {1: "x"},
        {"a": {1}},
        "\ud800",
        {"\udc00": 1},
    ],
)
def test_canonical_json_refuses_what_json_cannot_hold_exactly(value: Any) -> None:
    with pytest.raises(InvalidInput):
        canonical_json(value)


def test_canonical_json_refuses_deep_nesting() -> None:
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nests deeper"):
        canonical_json(deep)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_reference_string(text: str) -> str:
    """RFC 8785 3.2.2.2, written out: escape ", \\ and U+0000-U+001F, nothing else."""
    short = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"'}
    short["\\"] = "\\\\"
    out = []
    for ch in text:
        if ch in short:
            out.append(short[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@PROPERTY
@given(_json, st.randoms(use_true_random=False))
def test_canonical_json_ignores_key_order_and_reads_back(value: Any, rnd: random.Random) -> None:
    def shuffled(v: Any) -> Any:
        if isinstance(v, dict):
            items = list(v.items())
            rnd.shuffle(items)
            return {k: shuffled(x) for k, x in items}
        if isinstance(v, list):
            return [shuffled(x) for x in v]
        return v

    text = canonical_json(value)
    assert canonical_json(shuffled(value)) == text
    # numbers read back as the same doubles (90.0 is written 90, so read integers as floats)
    assert json.loads(text, parse_int=float) == value
    assert canonical_json(json.loads(text)) == text


@PROPERTY
@given(st.text())
def test_strings_escape_as_rfc_8785_says(text: str) -> None:
    assert canonical_json(text) == _json_reference_string(text).encode()


@PROPERTY
@given(
    st.integers(1, 2**53),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    st.lists(st.text(min_size=1, max_size=20), min_size=4, max_size=4),
    st.text(max_size=50),
)
def test_entry_json_is_the_canonical_json_of_its_fields(
    seq: int, when: datetime, texts: list[str], reason: str
) -> None:
    actor, action, obj, outcome = texts
    digest = hashlib.sha256(reason.encode()).hexdigest()
    record = EntryFields(seq, when, actor, action, obj, outcome, reason, digest)
    as_dict = {**dataclasses.asdict(record), "time": time_text(when)}
    assert entry_json(record) == canonical_json(as_dict)
    entry = link(GENESIS, record)
    assert entry.hash == hashlib.sha256(GENESIS.encode() + canonical_json(as_dict)).hexdigest()
    assert entry.time == when and entry.time.tzinfo is UTC


def test_time_text() -> None:
    assert time_text(T0) == "2026-01-05T09:00:00.000000Z"
    assert time_text(datetime(2026, 1, 5, 4, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-01-05T09:00:00.000005Z"
    )
    assert time_text(datetime(2026, 1, 5, 9)) == "2026-01-05T09:00:00.000000Z"  # naive is UTC


def test_payload_digest_is_the_sha256_of_the_canonical_json() -> None:
    digest = payload_digest({"email_hash": "ab", "score": 0.5, "n": 3.0})
    assert digest == hashlib.sha256(b'{"email_hash":"ab","n":3,"score":0.5}').hexdigest()
    assert digest == payload_digest({"n": 3, "score": 0.5, "email_hash": "ab"})


# --- linking -----------------------------------------------------------------------------


def test_the_hash_formula() -> None:
    first = CHAIN[0]
    body = entry_json(first)
    assert body.startswith(b'{"action":') and b'"seq":1,' in body
    assert first.previous_hash == GENESIS
    assert first.hash == hashlib.sha256(GENESIS.encode("ascii") + body).hexdigest()
    assert first.hash == entry_hash(GENESIS, body)
    assert all(b.previous_hash == a.hash for a, b in zip(CHAIN, CHAIN[1:], strict=False))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq": 0}, "seq is not a whole number from 1 to 2**53"),
        ({"seq": True}, "seq is not a whole number"),
        ({"seq": 2**53 + 1}, "seq is not a whole number"),
        ({"time": "2026-01-05"}, "time is not a datetime"),
        ({"actor": ""}, "actor is not text of 1 to 250 characters"),
        ({"action": "x" * 251}, "action is not text of 1 to 250 characters"),
        ({"object": None}, "object is not text"),
        ({"reason": "x" * 20_001}, "reason is not text of at most 20,000 characters"),
        ({"payload_digest": "AB" * 32}, "payload_digest is not 64 lowercase hex characters"),
        ({"reason": "\ud800"}, "unpaired surrogate"),
    ],
)
def test_link_refuses_bad_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("*", r"\*")):
        link(GENESIS, dataclasses.replace(fields(1), **change))


def test_link_refuses_a_bad_previous_hash() -> None:
    with pytest.raises(InvalidInput, match="previous_hash is not 64 lowercase hex"):
        link("0" * 63, fields(1))


# --- verification ------------------------------------------------------------------------


def test_a_valid_chain_of_10_000_entries_verifies() -> None:
    long = chain(10_000)
    result = verify(long)
    assert result.ok and result.broken is None
    assert (result.checked, result.last_seq, result.last_hash) == (10_000, 10_000, long[-1].hash)
    resumed = verify(long[6000:], start_hash=long[5999].hash, start_seq=6001)
    assert resumed.ok and resumed.checked == 4000
    assert verify([]).ok and verify([]).last_hash == GENESIS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("actor", "usr_other"),
        ("action", "gate.reject"),
        ("object", "gate:gat_x"),
        ("outcome", "refused!"),
        ("reason", "a different reason"),
        ("payload_digest", payload_digest({"seq": 0})),
        ("time", T0 + timedelta(days=1)),
        ("time", T0 + timedelta(seconds=20, microseconds=7)),
        ("seq", 21),
        ("previous_hash", CHAIN[5].hash),
        ("hash", CHAIN[5].hash),
    ],
)
def test_an_edited_entry_is_named(name: str, value: Any) -> None:
    tampered = list(CHAIN)
    tampered[19] = dataclasses.replace(CHAIN[19], **{name: value})
    broken = verify(tampered).broken
    assert broken is not None
    assert (broken.kind, broken.seq, broken.position) == (BreakKind.EDITED, 20, 19)
    said = " (it says seq 21)" if name == "seq" else ""
    assert broken.message == f"seq 20{said} was edited: its fields no longer match its hash"


def test_an_edit_with_a_fresh_hash_breaks_the_next_link() -> None:
    tampered = list(CHAIN)
    tampered[19] = link(CHAIN[18].hash, dataclasses.replace(fields(20), reason="rewritten"))
    result = verify(tampered)
    assert result.broken is not None
    assert (result.broken.kind, result.broken.seq) == (BreakKind.RELINKED, 21)
    assert "seq 21 does not link to the entry before it" in result.broken.message
    assert result.checked == 20 and result.last_seq == 20


@pytest.mark.parametrize(
    ("dropped", "seq", "message"),
    [
        ([0], 1, "seq 1 is missing: seq 2 follows the start (deleted)"),
        ([24], 25, "seq 25 is missing: seq 26 follows seq 24 (deleted)"),
        ([24, 25, 26], 25, "seqs 25 to 27 are missing: seq 28 follows seq 24 (deleted)"),
    ],
)
def test_a_deleted_entry_is_named(dropped: list[int], seq: int, message: str) -> None:
    tampered = [e for i, e in enumerate(CHAIN) if i not in dropped]
    broken = verify(tampered).broken
    assert broken is not None
    assert (broken.kind, broken.seq, broken.message) == (BreakKind.DELETED, seq, message)


def test_deleting_the_last_entries_needs_a_checkpoint_to_be_seen() -> None:
    assert verify(CHAIN[:-3]).ok  # a walk alone cannot tell an end cut off
    broken = verify(CHAIN[:-3], anchors={50: CHAIN[-1].hash}).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.TRUNCATED, 50)
    assert broken.message == (
        "it ends at seq 47, but a signed checkpoint covers seq 50: "
        "entries were cut off its end (truncated)"
    )


@pytest.mark.parametrize(("a", "b"), [(9, 10), (9, 30), (0, 1), (48, 49)])
def test_two_reordered_entries_are_named(a: int, b: int) -> None:
    tampered = list(CHAIN)
    tampered[a], tampered[b] = tampered[b], tampered[a]
    broken = verify(tampered).broken
    assert broken is not None
    assert (broken.kind, broken.seq, broken.position) == (BreakKind.REORDERED, a + 1, a)
    assert f"seq {b + 1} comes where seq {a + 1} belongs" in broken.message


def test_swapping_the_stored_seqs_of_two_rows_is_an_edit() -> None:
    tampered = list(CHAIN)
    tampered[9] = dataclasses.replace(CHAIN[9], seq=11)
    tampered[10] = dataclasses.replace(CHAIN[10], seq=10)
    tampered[9], tampered[10] = tampered[10], tampered[9]  # read back in seq order
    broken = verify(tampered).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.EDITED, 10)


def test_a_repeated_entry_is_named() -> None:
    broken = verify([*CHAIN[:5], CHAIN[4], *CHAIN[5:]]).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.REORDERED, 6)
    assert broken.message == "seq 5 comes where seq 6 belongs, after seq 5 (reordered or repeated)"


class Junk:
    seq = "3"


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (dataclasses.replace(CHAIN[2], seq="3"), "seq is str, not a whole number"),
        (dataclasses.replace(CHAIN[2], seq=3.0), "seq is float, not a whole number"),
        (dataclasses.replace(CHAIN[2], seq=True), "seq is bool, not a whole number"),
        (dataclasses.replace(CHAIN[2], time="2026-01-05"), "time is str, not a datetime"),
        (dataclasses.replace(CHAIN[2], actor=3), "actor is int, not text"),
        (dataclasses.replace(CHAIN[2], hash=None), "hash is missing, not text"),
        (
            dataclasses.replace(CHAIN[2], previous_hash=None),
            "previous_hash is not 64 lowercase hex",
        ),
        (
            dataclasses.replace(CHAIN[2], previous_hash="é" * 64),
            "previous_hash is not 64 lowercase",
        ),
        (
            dataclasses.replace(CHAIN[2], reason="\udc00"),
            "a text field holds an unpaired surrogate",
        ),
        (Junk(), "seq is str, not a whole number"),
        (None, "seq is missing, not a whole number"),
        ("row", "seq is missing, not a whole number"),
    ],
)
def test_malformed_entries_are_named_not_raised(bad: Any, why: str) -> None:
    result = verify([*CHAIN[:2], bad, *CHAIN[3:]])
    assert result.checked == 2 and result.broken is not None
    assert (result.broken.kind, result.broken.seq, result.broken.position) == (
        BreakKind.MALFORMED,
        3,
        2,
    )
    assert result.broken.message.startswith("the entry where seq 3 belongs is malformed: ")
    assert why in result.broken.message


@PROPERTY
@given(
    st.integers(0, len(CHAIN) - 1),
    st.sampled_from(["actor", "action", "object", "outcome", "reason", "seq", "time"]),
    st.text(min_size=1, max_size=5),
)
def test_any_single_edit_is_found_at_its_seq(index: int, name: str, text: str) -> None:
    original = CHAIN[index]
    value: Any = text
    if name == "seq":
        value = original.seq + 1 + len(text)
    elif name == "time":
        value = original.time + timedelta(microseconds=len(text))
    elif getattr(original, name) == text:
        value = text + "!"
    tampered = [*CHAIN[:index], dataclasses.replace(original, **{name: value}), *CHAIN[index + 1 :]]
    result = verify(tampered)
    assert result.broken is not None
    assert (result.broken.kind, result.broken.seq, result.checked) == (
        BreakKind.EDITED,
        original.seq,
        index,
    )


def test_verify_streams_in_constant_memory_and_stops_at_the_break() -> None:
    read = 0

    def counted(stream: Iterator[Entry]) -> Iterator[Entry]:
        nonlocal read
        for entry in stream:
            read += 1
            yield entry

    tracemalloc.start()
    try:
        result = verify(counted(entries(20_000)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.checked == 20_000
    assert peak < 256 * 1024  # 20,000 entries held at once would take several MB
    read = 0
    tampered = (e if e.seq != 100 else dataclasses.replace(e, reason="x") for e in entries(1000))
    assert verify(counted(tampered)).checked == 99
    assert read == 101  # the broken entry and one of look-ahead


# --- keys and checkpoints ----------------------------------------------------------------

KEY = generate_key()
PUBLIC = KEY.public_key()


def test_keys_round_trip_through_pem() -> None:
    assert fingerprint(load_public_key(public_key_pem(PUBLIC))) == fingerprint(PUBLIC)
    plain = private_key_pem(KEY)
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert fingerprint(load_private_key(plain).public_key()) == fingerprint(PUBLIC)
    locked = private_key_pem(KEY, b"correct horse")
    assert b"ENCRYPTED" in locked
    assert fingerprint(load_private_key(locked, b"correct horse").public_key()) == fingerprint(
        PUBLIC
    )
    with pytest.raises(InvalidInput, match="cannot read the private key"):
        load_private_key(locked, b"wrong")
    with pytest.raises(InvalidInput, match="cannot read the private key"):
        load_private_key(locked)
    with pytest.raises(InvalidInput, match="cannot read the public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_keys_of_another_algorithm_are_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidInput, match="not an Ed25519 key"):
        load_private_key(pem)
    with pytest.raises(InvalidInput, match="not an Ed25519 key"):
        load_public_key(public)


def test_the_fingerprint_is_the_sha256_of_the_raw_key() -> None:
    der = PUBLIC.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert fingerprint(PUBLIC) == hashlib.sha256(der[-32:]).hexdigest()


def test_a_checkpoint_verifies_alone_and_against_its_chain() -> None:
    checkpoint = sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)
    assert verify_checkpoint(PUBLIC, checkpoint).ok
    result = verify_checkpoint(PUBLIC, checkpoint, CHAIN)
    assert result.ok and result.checked == 50
    # entries after the checkpoint are walked too, and may grow
    assert verify_checkpoint(PUBLIC, checkpoint, [*CHAIN, *entries(5, 51, CHAIN[-1].hash)]).ok


def test_a_rewritten_chain_passes_a_walk_but_not_the_checkpoint() -> None:
    checkpoint = sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)
    forged, previous = [], GENESIS
    for entry in CHAIN:
        record = fields(entry.seq)
        if entry.seq == 12:
            record = dataclasses.replace(record, outcome="ok", reason="never waived")
        forged.append(link(previous, record))
        previous = forged[-1].hash
    assert verify(forged).ok  # consistent in itself: only the signature pins the past
    broken = verify_checkpoint(PUBLIC, checkpoint, forged).broken
    assert broken is not None and (broken.kind, broken.seq) == (BreakKind.CHECKPOINT, 30)
    assert "the chain was rewritten at or before seq 30" in broken.message
    truncated = verify_checkpoint(PUBLIC, checkpoint, CHAIN[:29]).broken
    assert truncated is not None and truncated.kind is BreakKind.TRUNCATED


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 31},
        {"hash": CHAIN[30].hash},
        {"time": T0 + timedelta(microseconds=1)},
        {"key": "0" * 64},
        {"signature": b"\x00" * 64},
    ],
)
def test_any_change_to_a_checkpoint_fails_its_signature(change: dict[str, Any]) -> None:
    checkpoint = sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)
    result = verify_checkpoint(PUBLIC, dataclasses.replace(checkpoint, **change), CHAIN)
    assert result.broken is not None and result.broken.kind is BreakKind.SIGNATURE
    assert result.checked == 0


def test_a_flipped_signature_bit_fails() -> None:
    checkpoint = sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)
    for i in range(0, 512, 37):
        flipped = bytearray(checkpoint.signature)
        flipped[i // 8] ^= 1 << (i % 8)
        assert not verify_checkpoint(
            PUBLIC, dataclasses.replace(checkpoint, signature=bytes(flipped))
        ).ok


def test_another_key_fails() -> None:
    checkpoint = sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)
    broken = verify_checkpoint(generate_key().public_key(), checkpoint).broken
    assert broken is not None and broken.kind is BreakKind.SIGNATURE
    assert "the checkpoint names key" in broken.message


def test_the_export_round_trips_and_is_checkable_with_jq_and_openssl() -> None:
    checkpoint = sign_checkpoint(
        KEY, 30, CHAIN[29].hash, datetime(2026, 1, 5, 4, tzinfo=timezone(timedelta(hours=-5)))
    )
    exported = checkpoint_to_json(checkpoint)
    document = json.loads(exported)
    assert sorted(document) == ["format", "hash", "key", "seq", "signature", "time"]
    assert document["time"] == "2026-01-05T09:00:00.000000Z"
    assert checkpoint_from_json(exported) == checkpoint
    # what `jq -cjS '{format,hash,key,seq,time}'` prints is the signed message
    signed = {k: document[k] for k in ("format", "hash", "key", "seq", "time")}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    assert message == checkpoint_message(
        checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.key
    )
    PUBLIC.verify(base64.b64decode(document["signature"]), message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "not a loopwise.audit.checkpoint/1 document"),
        ({"seq": 0}, "seq is not a whole number"),
        ({"seq": "30"}, "seq is not a whole number"),
        ({"hash": "x"}, "hash is not 64 lowercase hex"),
        ({"key": None}, "key is not 64 lowercase hex"),
        ({"time": "2026-01-05T09:00:00Z"}, "time or signature is malformed"),
        ({"time": "yesterday Z"}, "time or signature is malformed"),
        ({"time": 5}, "time or signature is malformed"),
        ({"signature": "!!"}, "time or signature is malformed"),
        ({"signature": base64.b64encode(b"short").decode()}, "time or signature is malformed"),
    ],
)
def test_a_malformed_export_is_refused(change: dict[str, Any], message: str) -> None:
    document = json.loads(checkpoint_to_json(sign_checkpoint(KEY, 30, CHAIN[29].hash, T0)))
    with pytest.raises(InvalidInput, match=message):
        checkpoint_from_json(json.dumps({**document, **change}))


@pytest.mark.parametrize("text", ["", "[]", "{", b"\xff"])
def test_an_export_that_is_not_a_checkpoint_is_refused(text: str | bytes) -> None:
    with pytest.raises(InvalidInput, match="checkpoint: not"):
        checkpoint_from_json(text)


def test_signing_refuses_what_is_not_a_chain_position() -> None:
    for seq, digest in ((0, CHAIN[0].hash), (1, "nope")):
        with pytest.raises(InvalidInput, match="checkpoint:"):
            sign_checkpoint(KEY, seq, digest, T0)
    assert isinstance(sign_checkpoint(KEY, 1, CHAIN[0].hash, datetime(2026, 1, 5)), Checkpoint)
