"""Which secret obtained a cached token, told without storing the secret: a salted slow hash.

A cache entry (a token file, a refusal marker) carries ``{"kdf", "salt", "hash"}`` of the
password, client secret or API key that produced it. A process serves a cached token only to
a connection whose secret gives the same hash with the entry's salt, so a wrong password is
never served a right password's token, and a refusal blocks only the secret that was refused.

PBKDF2-HMAC-SHA256 (always in ``hashlib``) with many iterations: guessing a password from a
stolen cache file costs as much as from a well-kept password database. Each fingerprint
computes a salt's hash once and remembers it, and reuses the salt it saw last when it writes,
so processes sharing a cache converge on one salt: one hash per connection, not per read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any, Dict, Optional

from ..secrets import Secret

__all__ = ["KDF", "SecretFingerprint"]

KDF = "pbkdf2-sha256-200000"
"""The name stored with each hash; an entry of another name never matches (no guessing)."""
_ITERATIONS = 200_000
_SALT_BYTES = 16


class SecretFingerprint:
    """The salted hashes of one secret (None: a way of signing in that has no secret)."""

    def __init__(self, secret: Optional[Secret]) -> None:
        self._secret = secret
        self._hashes: Dict[str, str] = {}
        self._salt: Optional[str] = None

    def entry(self) -> Optional[Dict[str, str]]:
        """What a cache entry stores for this secret (None when there is no secret)."""
        if self._secret is None:
            return None
        salt = self._salt or os.urandom(_SALT_BYTES).hex()
        return {"kdf": KDF, "salt": salt, "hash": self._hash(salt)}

    def matches(self, stored: Any) -> bool:
        """True when ``stored`` (an entry's ``secret`` field) was made from this secret."""
        if self._secret is None or stored is None:
            return self._secret is None and stored is None
        if not isinstance(stored, dict) or stored.get("kdf") != KDF:
            return False
        salt, digest = stored.get("salt"), stored.get("hash")
        if not (isinstance(salt, str) and isinstance(digest, str) and _is_hex(salt)):
            return False
        return hmac.compare_digest(self._hash(salt), digest)

    def _hash(self, salt: str) -> str:
        if salt not in self._hashes:
            assert self._secret is not None
            raw = self._secret.reveal().encode("utf-8")
            digest = hashlib.pbkdf2_hmac("sha256", raw, bytes.fromhex(salt), _ITERATIONS)
            self._hashes = {salt: digest.hex()}  # one salt at a time: memory stays bounded
        self._salt = salt
        return self._hashes[salt]


def _is_hex(text: str) -> bool:
    """A salt as written by :meth:`SecretFingerprint.entry` (bounded, even-length hex)."""
    if not 0 < len(text) <= 2 * 64 or len(text) % 2:
        return False
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
