"""The tamper-evident audit chain: entries, their hashes, verification, signed checkpoints.

Every audited event is one ``Entry``: ``seq, time, actor, action, object, outcome,
reason, payload_digest`` and the two hashes that chain it::

    hash = SHA-256( previous_hash  ‖  canonical_json(entry without its two hashes) )

``previous_hash`` (64 lowercase hex characters, as ASCII) is the hash of the entry
before, or ``GENESIS`` (64 zeros) for the first; ``canonical_json`` is RFC 8785 (JCS):
keys sorted by UTF-16 code units, no whitespace, UTF-8, numbers as ECMAScript prints
them. The event's payload is not in the chain, only ``payload_digest``, the SHA-256 of
its canonical JSON, so personal data stays out: a store may erase a payload and the
chain still verifies.

``verify`` walks entries as a stream (one entry of look-ahead, constant memory) and names
the first broken link and why, without raising on bad data. A signed ``Checkpoint``
(Ed25519, ``cryptography``) pins ``(seq, hash)`` so that rewriting the whole chain from
some point on, or cutting entries off its end, is caught too; it exports as JSON and can
be checked offline with ``jq`` and ``openssl`` (docs/governance.md, "Audit trail").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from loopwise.core.errors import InvalidInput
from loopwise.core.limits import MAX_KEY, MAX_TEXT, nests_deeper

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "loopwise.audit.checkpoint/1"
MAX_SEQ = 2**53  # the largest integer JSON (an IEEE double) holds exactly
_HEX64 = re.compile(r"[0-9a-f]{64}")
_END = object()  # the end of a stream of entries
# json's C string encoder: escapes exactly what RFC 8785 escapes (", \ and U+0000-U+001F,
# with \b \t \n \f \r short and the rest as lowercase \u00xx) and leaves the rest as is.
_string = json.encoder.encode_basestring

# --- canonical JSON (RFC 8785) -------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON value (dicts with text keys, lists or tuples,
    text, numbers, booleans, None) as UTF-8 bytes.

    Keys are sorted by their UTF-16 code units and never repeated; no whitespace; text
    escapes only what JSON must (``"``, ``\\``, control characters); numbers print as
    ECMAScript does (shortest digits that read back: ``90.0`` and ``90`` both give ``90``,
    ``1e21`` gives ``1e+21``, ``1e-7`` gives ``1e-7``). Refused with ``InvalidInput``:
    NaN and infinities, integers a double cannot hold exactly (past 2**53, JSON readers
    hold numbers as doubles),
    unpaired surrogates, other types, nesting deeper than ``MAX_JSON_DEPTH``.
    """
    if nests_deeper(value):
        raise InvalidInput("payload: nests deeper than the limit for JSON")
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("payload: text holds an unpaired surrogate") from exc


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)) if -MAX_SEQ <= value <= MAX_SEQ else _big_integer(value))
    elif isinstance(value, float):
        out.append(json_number(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise InvalidInput("payload: object keys must be text")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise InvalidInput(f"payload: {type(value).__name__} is not a JSON value")


def _big_integer(value: int) -> str:
    # Past 2**53 an integer is accepted when it is a double exactly (2**60, printed as
    # ECMAScript prints that double: 1152921504606847000) or when it is written just as its
    # nearest double prints (123456789012345660: what a large float's canonical text reads
    # back as in Python, so canonical text is canonical again). Any other (2**53 + 1) would
    # be rounded by every JSON reader that holds numbers as doubles.
    try:
        nearest = float(value)
    except OverflowError:
        nearest = math.inf
    if math.isinf(nearest) or (int(nearest) != value and json_number(nearest) != str(value)):
        raise InvalidInput(
            "payload: an integer that a JSON number (a double) cannot hold exactly; send it as text"
        )
    return json_number(nearest)


def _utf16(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare as the code units do (RFC 8785 3.2.3); "surrogatepass"
    # lets an unpaired surrogate through here so that the encoding step refuses it.
    return key.encode("utf-16-be", "surrogatepass")


def json_number(value: float) -> str:
    """A finite float as ECMAScript's Number.prototype.toString prints it (RFC 8785
    3.2.2.3), from Python's shortest round-trip digits."""
    if not math.isfinite(value):
        raise InvalidInput("payload: NaN and infinities are not JSON numbers")
    if value == 0:
        return "0"  # and -0
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # digits before the decimal point
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    s = significant.rstrip("0")
    k, n = len(s), point  # value = 0.s x 10**n
    if k <= n <= 21:
        text = s + "0" * (n - k)
    elif 0 < n <= 21:
        text = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + s
    else:
        e = n - 1
        text = (s if k == 1 else s[0] + "." + s[1:]) + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + text


def payload_digest(payload: Any) -> str:
    """SHA-256 (hex) of the payload's canonical JSON: what the chain keeps of a payload."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


# --- entries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryFields:
    """What an audited event records, before it is linked into the chain."""

    seq: int  # 1, 2, 3, ... with no gaps
    time: datetime  # UTC; kept to the microsecond
    actor: str  # an opaque id (usr_..., "system"), never a name or an email address
    action: str  # gate.approve, waiver.grant, model.promote, dataset.read_personal ...
    object: str  # what it was done to, by id: gate:gat_..., model_version:mv_...
    outcome: str  # ok, refused, ...
    reason: str  # the stated reason, if any (free text: no personal data)
    payload_digest: str  # payload_digest(payload); the payload itself is stored elsewhere


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: datetime
    actor: str
    action: str
    object: str
    outcome: str
    reason: str
    payload_digest: str
    previous_hash: str
    hash: str


def time_text(moment: datetime) -> str:
    """The canonical text of a time: UTC, microseconds, ``Z``
    (``2026-01-05T09:00:00.000000Z``). A naive time is read as UTC."""
    zone = moment.tzinfo
    if zone is None:
        return moment.isoformat(timespec="microseconds") + "Z"
    if zone is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # drop "+00:00"


_ENTRY = (
    '{"action":%s,"actor":%s,"object":%s,"outcome":%s,"payload_digest":%s,"reason":%s,'
    '"seq":%s,"time":"%sZ"}'
)


def entry_json(entry: Entry | EntryFields) -> bytes:
    """The canonical JSON of an entry's hashed fields (all but the two hashes); the same
    bytes as ``canonical_json`` of the dict of those fields, written out for speed (one
    template: verifying spends most of its time here)."""
    moment = entry.time
    if moment.tzinfo is UTC:
        when = moment.isoformat(timespec="microseconds")[:-6]
    else:
        when = time_text(moment)[:-1]
    return (
        _ENTRY
        % (
            _string(entry.action),
            _string(entry.actor),
            _string(entry.object),
            _string(entry.outcome),
            _string(entry.payload_digest),
            _string(entry.reason),
            entry.seq,
            when,
        )
    ).encode("utf-8")


def entry_hash(previous_hash: str, body: bytes) -> str:
    """``hash = SHA-256(previous_hash as ASCII ‖ body)``, as 64 lowercase hex characters."""
    return hashlib.sha256(previous_hash.encode("ascii") + body).hexdigest()


def link(previous_hash: str, fields: EntryFields) -> Entry:
    """The entry that records ``fields`` after the entry whose hash is ``previous_hash``
    (``GENESIS`` for the first). Checks the fields; the caller keeps ``seq`` one past the
    previous entry's."""
    problem = _fields_problem(fields)
    if not _HEX64.fullmatch(str(previous_hash)):
        problem = problem or "previous_hash is not 64 lowercase hex characters"
    if problem:
        raise InvalidInput(f"audit entry: {problem}")
    time = fields.time.replace(tzinfo=UTC) if fields.time.tzinfo is None else fields.time
    time = time.astimezone(UTC)
    try:
        body = entry_json(fields)
    except UnicodeEncodeError as exc:
        raise InvalidInput("audit entry: text holds an unpaired surrogate") from exc
    return Entry(
        seq=fields.seq,
        time=time,
        actor=fields.actor,
        action=fields.action,
        object=fields.object,
        outcome=fields.outcome,
        reason=fields.reason,
        payload_digest=fields.payload_digest,
        previous_hash=previous_hash,
        hash=entry_hash(previous_hash, body),
    )


def _fields_problem(fields: EntryFields) -> str:
    if type(fields.seq) is not int or not 1 <= fields.seq <= MAX_SEQ:
        return "seq is not a whole number from 1 to 2**53"
    time: object = fields.time  # typed, but callers pass what a database or a form held
    if not isinstance(time, datetime):
        return "time is not a datetime"
    for name in ("actor", "action", "object", "outcome"):
        value = getattr(fields, name)
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_KEY:
            return f"{name} is not text of 1 to {MAX_KEY} characters"
    if not isinstance(fields.reason, str) or len(fields.reason) > MAX_TEXT:
        return f"reason is not text of at most {MAX_TEXT:,} characters"
    if not isinstance(fields.payload_digest, str) or not _HEX64.fullmatch(fields.payload_digest):
        return "payload_digest is not 64 lowercase hex characters (use payload_digest())"
    return ""


# --- verification --------------------------------------------------------------------------


class BreakKind(StrEnum):
    EDITED = "edited"  # an entry's hash does not match its fields
    DELETED = "deleted"  # a seq is missing
    REORDERED = "reordered"  # seqs out of order, or one repeated
    RELINKED = "relinked"  # previous_hash is not the hash of the entry before
    MALFORMED = "malformed"  # a field of the wrong type or shape
    CHECKPOINT = "checkpoint"  # an entry's hash differs from a signed checkpoint's
    TRUNCATED = "truncated"  # the chain ends before a checkpoint's seq
    SIGNATURE = "signature"  # a checkpoint's signature or key does not verify


@dataclass(frozen=True)
class Break:
    kind: BreakKind
    seq: int | None  # the seq where the chain breaks (a missing one for DELETED)
    position: int | None  # 0-based place in the walked stream
    message: str


@dataclass(frozen=True)
class Verification:
    checked: int  # entries that verified, from the start of the walk
    last_seq: int | None  # the last of them
    last_hash: str  # its hash (the start hash if none): where a later walk resumes
    broken: Break | None = None  # the first broken link

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify(
    entries: Iterable[Entry],
    *,
    start_hash: str = GENESIS,
    start_seq: int = 1,
    anchors: Mapping[int, str] | None = None,
) -> Verification:
    """Walk the chain in the order given and name its first broken link.

    The first entry must have ``seq == start_seq`` and link to ``start_hash`` (from a
    checkpoint: its hash and seq + 1). Each entry is checked, in this order: its fields are
    well formed; its hash matches them (else *edited*); its seq is one past the one before
    (else *deleted*, or *reordered* when the next entry holds the seq expected or one
    repeats); its ``previous_hash`` is the hash before (else *relinked*: the entry before
    was rewritten with a fresh hash, or one was inserted). ``anchors`` maps seqs to hashes
    from signed checkpoints: an entry there must have that hash, and the chain must reach
    it (else *truncated*); anchors before ``start_seq`` are not looked at. Never raises on
    bad entries; an error while reading the stream itself propagates.
    """
    pinned = dict(anchors or {})
    expected, previous, checked, last_seq = start_seq, start_hash, 0, None
    stream: Iterator[Any] = iter(entries)  # Any: bad rows are named, not trusted
    current: Any = next(stream, _END)  # not None: a None in the stream is a malformed entry
    sha256 = hashlib.sha256
    while current is not _END:
        following = next(stream, _END)
        # The common case in one expression; anything else (a break, an anchor, a bad row)
        # goes to _check, which names it. This saves about a fifth of a walk.
        try:
            intact = (
                current.seq == expected
                and type(current.seq) is int
                and current.previous_hash == previous
                and sha256(previous.encode("ascii") + entry_json(current)).hexdigest()
                == current.hash
                and expected not in pinned
            )
        except Exception:  # _check names what was wrong with the row
            intact = False
        if not intact:
            broken = _check(current, following, expected, previous, checked, pinned)
            if broken is not None:
                return Verification(checked, last_seq, previous, broken)
        previous, last_seq = current.hash, current.seq
        expected += 1
        checked += 1
        current = following
    unreached = [seq for seq in pinned if seq >= expected]
    if unreached:
        seq = min(unreached)
        end = "it is empty" if last_seq is None else f"it ends at seq {last_seq}"
        message = (
            f"{end}, but a signed checkpoint covers seq {seq}: "
            "entries were cut off its end (truncated)"
        )
        return Verification(
            checked, last_seq, previous, Break(BreakKind.TRUNCATED, seq, None, message)
        )
    return Verification(checked, last_seq, previous)


def _check(
    entry: Any,
    following: object,
    expected: int,
    previous: str,
    position: int,
    anchors: dict[int, str],
) -> Break | None:
    problem = _shape_problem(entry)
    if not problem:
        try:
            computed = entry_hash(entry.previous_hash, entry_json(entry))
        except UnicodeEncodeError:
            problem = "a text field holds an unpaired surrogate"
    if problem:
        message = f"the entry where seq {expected} belongs is malformed: {problem}"
        return Break(BreakKind.MALFORMED, expected, position, message)
    seq, stored = entry.seq, entry.hash
    if computed != stored:
        # named by where it stands: an edit may have changed the seq it states
        said = "" if seq == expected else f" (it says seq {seq})"
        message = f"seq {expected}{said} was edited: its fields no longer match its hash"
        return Break(BreakKind.EDITED, expected, position, message)
    if seq != expected:
        return _out_of_sequence(seq, following, expected, position)
    if entry.previous_hash != previous:
        before = "the start hash" if position == 0 else f"seq {seq - 1}'s hash"
        message = (
            f"seq {seq} does not link to the entry before it: its previous hash "
            f"{_short(entry.previous_hash)} is not {before} {_short(previous)} (relinked: "
            "the entry before was rewritten with a new hash, or an entry was inserted)"
        )
        return Break(BreakKind.RELINKED, seq, position, message)
    if seq in anchors and anchors[seq] != entry.hash:
        message = (
            f"seq {seq} has hash {_short(entry.hash)}, but a signed checkpoint says "
            f"{_short(anchors[seq])}: the chain was rewritten at or before seq {seq}"
        )
        return Break(BreakKind.CHECKPOINT, seq, position, message)
    return None


_TEXT_FIELDS = ("actor", "action", "object", "outcome", "reason", "payload_digest", "hash")


def _shape_problem(entry: object) -> str:
    """What makes a row unreadable as an entry, or ''."""

    def kind(value: object) -> str:
        return "missing" if value is None else type(value).__name__

    seq = getattr(entry, "seq", None)
    if type(seq) is not int:
        return f"seq is {kind(seq)}, not a whole number"
    time = getattr(entry, "time", None)
    if not isinstance(time, datetime):
        return f"time is {kind(time)}, not a datetime"
    for name in _TEXT_FIELDS:
        value = getattr(entry, name, None)
        if not isinstance(value, str):
            return f"{name} is {kind(value)}, not text"
    previous = getattr(entry, "previous_hash", None)
    if not isinstance(previous, str) or not _HEX64.fullmatch(previous):
        return "previous_hash is not 64 lowercase hex characters"
    return ""


def _out_of_sequence(seq: int, following: object, expected: int, position: int) -> Break:
    after = f"seq {expected - 1}" if position else "the start"
    later = getattr(following, "seq", None)
    if seq > expected and not (type(later) is int and expected <= later < seq):
        gap = f"seq {expected} is" if seq == expected + 1 else f"seqs {expected} to {seq - 1} are"
        message = f"{gap} missing: seq {seq} follows {after} (deleted)"
        return Break(BreakKind.DELETED, expected, position, message)
    message = f"seq {seq} comes where seq {expected} belongs, after {after} (reordered"
    message += " or repeated)" if seq < expected else ")"
    return Break(BreakKind.REORDERED, expected, position, message)


def _short(value: object) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) > 12 else repr(text)


# --- keys and signed checkpoints -----------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with ``password`` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM (what ``openssl pkeyutl -pubin`` reads)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(f"audit key: cannot read the private key ({_first_line(exc)})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("audit key: the private key is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(f"audit key: cannot read the public key ({_first_line(exc)})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("audit key: the public key is not an Ed25519 key")
    return key


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the key's 32 raw bytes; ``openssl pkey -pubin -in k.pem -outform
    DER | tail -c 32 | sha256sum`` prints the same."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain's entry ``seq`` has hash ``hash``."""

    seq: int
    hash: str
    time: datetime  # when it was signed
    key: str  # fingerprint() of the signing key's public half
    signature: bytes  # Ed25519 over checkpoint_message(...)


def checkpoint_message(seq: int, hash: str, time: datetime, key: str) -> bytes:
    """The signed bytes: the canonical JSON of ``format, hash, key, seq, time`` (``jq
    -cjS '{format,hash,key,seq,time}'`` of the exported file gives the same)."""
    fields = {
        "format": CHECKPOINT_FORMAT,
        "hash": hash,
        "key": key,
        "seq": seq,
        "time": time_text(time),
    }
    return canonical_json(fields)


def sign_checkpoint(
    private_key: Ed25519PrivateKey, seq: int, hash: str, time: datetime
) -> Checkpoint:
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ or not _HEX64.fullmatch(str(hash)):
        raise InvalidInput(
            "checkpoint: seq is not a whole number from 1 or hash is not a chain hash"
        )
    key = fingerprint(private_key.public_key())
    time = time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
    signature = private_key.sign(checkpoint_message(seq, hash, time, key))
    return Checkpoint(seq, hash, time, key, signature)


def checkpoint_to_json(checkpoint: Checkpoint) -> str:
    """The export format: a JSON object, keys sorted, one per line, the signature in
    standard base64."""
    document = {
        "format": CHECKPOINT_FORMAT,
        "hash": checkpoint.hash,
        "key": checkpoint.key,
        "seq": checkpoint.seq,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        "time": time_text(checkpoint.time),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def checkpoint_from_json(text: str | bytes) -> Checkpoint:
    """Read an exported checkpoint; anything malformed is refused with ``InvalidInput``
    (the signature is checked by ``verify_checkpoint``, not here)."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"checkpoint: not JSON ({_first_line(exc)})") from exc
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise InvalidInput(f"checkpoint: not a {CHECKPOINT_FORMAT} document")
    seq, hash, key = document.get("seq"), document.get("hash"), document.get("key")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise InvalidInput("checkpoint: seq is not a whole number from 1 to 2**53")
    for name, value in (("hash", hash), ("key", key)):
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise InvalidInput(f"checkpoint: {name} is not 64 lowercase hex characters")
    time = document.get("time")
    try:
        if not isinstance(time, str) or not time.endswith("Z"):
            raise ValueError(time)
        moment = datetime.fromisoformat(time[:-1]).replace(tzinfo=UTC)
        signature = base64.b64decode(str(document.get("signature")), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("checkpoint: time or signature is malformed") from exc
    if time_text(moment) != time or len(signature) != 64:
        raise InvalidInput("checkpoint: time or signature is malformed")
    assert isinstance(hash, str) and isinstance(key, str)
    return Checkpoint(seq, hash, moment, key, signature)


def verify_checkpoint(
    public_key: Ed25519PublicKey,
    checkpoint: Checkpoint,
    entries: Iterable[Entry] | None = None,
    *,
    start_hash: str = GENESIS,
    start_seq: int = 1,
) -> Verification:
    """Check the checkpoint's signature with ``public_key``, then (when ``entries`` are
    given) walk them with the checkpoint as an anchor: the chain must be intact, reach
    ``checkpoint.seq`` and have ``checkpoint.hash`` there."""
    key = fingerprint(public_key)
    problem = ""
    if checkpoint.key != key:
        problem = f"the checkpoint names key {_short(checkpoint.key)}, not this key {_short(key)}"
    else:
        message = checkpoint_message(
            checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.key
        )
        try:
            public_key.verify(checkpoint.signature, message)
        except InvalidSignature:
            problem = f"the signature of the checkpoint at seq {checkpoint.seq} does not verify"
    if problem:
        broken = Break(BreakKind.SIGNATURE, checkpoint.seq, None, problem)
        return Verification(0, None, start_hash, broken)
    if entries is None:
        return Verification(0, None, start_hash)
    return verify(
        entries,
        start_hash=start_hash,
        start_seq=start_seq,
        anchors={checkpoint.seq: checkpoint.hash},
    )
