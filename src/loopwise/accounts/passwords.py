"""Password hashes: argon2id for new ones; scrypt hashes from before still verify.

Stored formats:

- ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``: the PHC string argon2-cffi writes, with
  OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 lane). Every new hash.
  argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took 83-101 ms per check on an idle
  2-core machine and 140-270 ms on a busy one, 4-6x the old scrypt; OWASP's profile gives
  the same resistance class at a fraction of that. Hashes with other parameters verify and
  are redone at the next sign-in (``check_needs_rehash``), so changing them needs no
  migration.
- ``scrypt$<salt hex>$<digest hex>``: scrypt with n=2**14, r=8, p=1 and a 32-byte digest,
  what Loopwise 0.1 wrote. Still accepted; ``Check.needs_rehash`` asks the caller to
  replace it with argon2id once the password is known to be right.

``verify`` performs exactly one hash verification whatever it is given, so a sign-in for
an unknown user (or one without a password) costs the same as a wrong password for a
known one, and the answer time does not tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SCRYPT_PREFIX = "scrypt$"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

# argon2id (the library's default type); a module attribute so tests can watch it
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Check:
    """The outcome of one verification."""

    ok: bool
    needs_rehash: bool = False  # right password, but stored with an old scheme or cost


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def dummy_hash() -> str:
    """An argon2id hash of a random password, made with the current parameters: what a
    sign-in with no stored hash is checked against, so it costs one real verification."""
    return _hasher.hash(secrets.token_urlsafe(24))


def verify(password: str, stored: str | None) -> Check:
    """Check ``password`` against ``stored`` (None: no user or no password: never ok)."""
    if not stored:
        _argon2(dummy_hash(), password)
        return Check(ok=False)
    if stored.startswith(SCRYPT_PREFIX):
        ok = _scrypt(stored, password)
        return Check(ok=ok, needs_rehash=ok)
    ok = _argon2(stored, password)
    return Check(ok=ok, needs_rehash=ok and _hasher.check_needs_rehash(stored))


def _argon2(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _scrypt(stored: str, password: str) -> bool:
    try:
        _scheme, salt_hex, digest_hex = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)
