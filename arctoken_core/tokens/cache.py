"""An optional token cache shared by processes: one sign-in per refresh between them all.

Parallel geoprocessing (``multiprocessing`` workers, several ArcGIS Pro tools at once) would
otherwise sign in once per process. With the cache, the first process to need a token signs
in and writes it to a file; the others read it. Rules, after MSAL's token cache:

- one file per audience, named by a hash of (kind, token service, user, referer, audience):
  never by the password, and no password or secret is ever written;
- a cached token is served only to a connection whose secret obtained it: each entry holds
  a salted slow hash of that secret (:mod:`.fingerprint`), never the secret;
- owner-only permissions (0600 files in a 0700 folder), written to a temporary file and
  atomically renamed into place, so a reader never sees half a file; a file of another
  user or readable by others, or a folder others may write, is not used (a warning, and
  the run goes on without the cache);
- an OS lock on a lock file guards the sign-in (:mod:`.filelock`): a holder that dies frees
  it at once, and one hung for ``stale_after`` seconds is broken, so no process can block
  the others for ever;
- a file that is corrupt, of another version or for another key is ignored and replaced;
- a refused sign-in is remembered for 30 seconds (with the hash of the refused secret), so
  workers started together with a wrong password make one failed sign-in between them, not
  one each, while a corrected password is not held back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

from ..errors import AuthenticationError, ConfigError
from ..files import not_private, write_private
from ..secrets import Secret, get_logger, mask_token
from .filelock import FileLock, LockTimeout
from .fingerprint import SecretFingerprint
from .provider import TokenProvider
from .refresh import advisory_margin
from .token import Token, usable_referer, usable_token

log = get_logger(__name__)

VERSION = 2
"""Version 2: entries name the secret that made them (a salted hash)."""
DEFAULT_STALE_AFTER = 300.0
"""Seconds after which a lock whose holder is alive is presumed hung: longer than the
slowest sign-in (connect and read timeouts, plus retries). A dead holder's lock is free at
once: the operating system releases it."""
DEFAULT_LOCK_WAIT = DEFAULT_STALE_AFTER + 30.0
REFUSED_WINDOW = 30.0
"""Seconds a refused sign-in keeps other processes from trying the same credentials: long
enough for workers started together, short enough for a person fixing a typo (who is not
held back at all: the marker blocks only the secret that was refused)."""


def default_directory() -> Path:
    """Where the cache lives by default: the user's local app data, never a shared folder."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "ArcTokenTools" / "tokens"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "arctoken" / "tokens"


def cache_key(parts: Sequence[str]) -> str:
    """The file name for one audience: a SHA-256 of who signs in where, never of a secret."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass
class TokenCache:
    """A folder of token files shared by the processes of one user."""

    directory: Path
    stale_after: float = DEFAULT_STALE_AFTER
    lock_wait: float = DEFAULT_LOCK_WAIT
    problem: Optional[str] = field(default=None, init=False)
    """Why the folder is not used (another user's, writable by others), or None."""

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(
                "cache_dir", f"cannot use {self.directory} for the token cache ({exc.strerror})"
            ) from None
        with contextlib.suppress(OSError):  # another user's folder: refused just below
            os.chmod(self.directory, 0o700)
        self.problem = _folder_problem(self.directory)
        if self.problem:
            log.warning(
                "not using the token cache folder %s: %s; signing in without the cache. "
                "Make it yours alone (chmod 700) or choose another cache_dir",
                self.directory,
                self.problem,
            )

    def path(self, key: str) -> Path:
        """The token file of ``key``."""
        return self.directory / f"{key}.json"

    def read(self, key: str, fingerprint: Optional[SecretFingerprint] = None) -> Optional[Token]:
        """The cached token of ``key`` obtained with ``fingerprint``'s secret (default: none),
        or None when absent, corrupt, for another key or secret, or not private."""
        data = _load(self.path(key))
        if data is None:
            return None
        try:
            token = _token_from_file(data[0], key)
        except (ValueError, KeyError, TypeError, OverflowError):
            log.warning("ignoring an unreadable token cache file; it will be replaced")
            return None
        if not (fingerprint or NO_SECRET).matches(data[0].get("secret")):
            log.info("the cached token was obtained with other credentials; not used")
            return None
        return token

    def write(
        self, key: str, token: Token, fingerprint: Optional[SecretFingerprint] = None
    ) -> None:
        """Store ``token`` for ``key`` with the hash of its secret: owner-only, atomically."""
        data: Dict[str, Any] = {
            "version": VERSION,
            "key": key,
            "token": token.value,
            "expires_at": token.expires_at,
            "issued_at": token.issued_at,
            "referer": token.referer,
            "ssl": token.ssl,
            "audience": token.audience,
            "secret": (fingerprint or NO_SECRET).entry(),
        }
        with _unless_unwritable("store the token"):
            write_private(self.path(key), json.dumps(data))

    def mark_refused(self, key: str, fingerprint: Optional[SecretFingerprint] = None) -> None:
        """Note that a sign-in for ``key`` with ``fingerprint``'s secret was refused."""
        marker = {"version": VERSION, "key": key, "secret": (fingerprint or NO_SECRET).entry()}
        with _unless_unwritable("note the refused sign-in"):
            write_private(self._refused_path(key), json.dumps(marker))

    def clear_refused(self, key: str, fingerprint: Optional[SecretFingerprint] = None) -> None:
        """Forget a refused sign-in of ``fingerprint``'s secret (a later one succeeded)."""
        if self.refused_age(key, fingerprint) is None:
            return  # none, or another secret's: that one is still wrong
        with _unless_unwritable("clear a refused sign-in"), contextlib.suppress(FileNotFoundError):
            self._refused_path(key).unlink()

    def refused_age(
        self, key: str, fingerprint: Optional[SecretFingerprint] = None
    ) -> Optional[float]:
        """Seconds since a sign-in for ``key`` with ``fingerprint``'s secret was refused, or
        None when none was (a refusal of another secret does not count)."""
        data = _load(self._refused_path(key))
        if data is None or not isinstance(data[0], dict) or data[0].get("key") != key:
            return None
        if not (fingerprint or NO_SECRET).matches(data[0].get("secret")):
            return None
        return max(0.0, time.time() - data[1].st_mtime)

    def _refused_path(self, key: str) -> Path:
        return self.directory / f"{key}.refused"

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the sign-in lock of ``key`` (an OS lock: a holder that dies frees it at once).

        A cache folder that fails (read-only, gone) does not fail the run: the sign-in goes
        ahead without the lock.
        """
        lock = FileLock(self.directory / f"{key}.lock", self.stale_after, self.lock_wait)
        try:
            lock.acquire()
        except LockTimeout:
            raise ConfigError(
                "cache_dir", f"the token cache lock {key}.lock stayed taken; delete it"
            ) from None
        except OSError as exc:
            log.warning("token cache unusable (%s); signing in without it", exc.strerror)
        try:
            yield
        finally:
            lock.release()


NO_SECRET = SecretFingerprint(None)
"""The fingerprint of a way of signing in without a secret."""


def _folder_problem(folder: Path) -> Optional[str]:
    try:
        return not_private(os.stat(str(folder)), folder=True)
    except OSError as exc:
        return f"it cannot be checked ({exc.strerror})"


def _load(path: Path) -> Optional[Tuple[Any, os.stat_result]]:
    """The JSON in ``path`` and its stat, or None when absent, unreadable or not private."""
    try:
        with open(path, "rb") as stream:
            status = os.fstat(stream.fileno())
            problem = not_private(status)
            if problem:
                log.warning("ignoring the token cache file %s: %s", path.name, problem)
                return None
            return json.loads(stream.read().decode("utf-8")), status
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError):
        log.warning("ignoring an unreadable token cache file; it will be replaced")
        return None


@contextmanager
def _unless_unwritable(what: str) -> Iterator[None]:
    """The cache is an optimisation: a full disk or a read-only folder must not fail a run."""
    try:
        yield
    except OSError as exc:
        log.warning("could not %s in the token cache (%s); going on without it", what, exc.strerror)


class CachedProvider:
    """Wraps a provider: fresh tokens come from the shared cache, sign-ins from one process.

    A cached token equal to the one this process last handed out is never reused: the handler
    only asks again when that token expired or a server rejected it.
    """

    def __init__(
        self,
        provider: TokenProvider,
        cache: TokenCache,
        key: str,
        clock: Any,
        secret: Optional[Secret] = None,
    ) -> None:
        self.provider = provider
        self.fingerprint = SecretFingerprint(secret)
        self.cache = cache
        self.key = key
        self.clock = clock
        self.audience = provider.audience
        self._last: Optional[str] = None

    def fetch(self) -> Token:
        """A fresh token from the cache, or from one sign-in under the cache's lock.

        A sign-in another process had refused moments ago is not tried again: N workers
        started together with a wrong password would otherwise lock the account.
        """
        if self.cache.problem:
            return self.provider.fetch()
        token = self._fresh_cached()
        if token is None:
            with self.cache.lock(self.key):
                token = self._fresh_cached() or self._sign_in()
        self._last = token.value
        return token

    def _fresh_cached(self) -> Optional[Token]:
        token = self.cache.read(self.key, self.fingerprint)
        if token is None or token.value == self._last:
            return None
        if token.remaining(self.clock()) <= advisory_margin(token.lifetime):
            return None
        log.debug("token %s taken from the shared cache", mask_token(token.value))
        return token

    def _sign_in(self) -> Token:
        self._refuse_if_recently_refused()
        try:
            token = self.provider.fetch()
        except AuthenticationError:
            self.cache.mark_refused(self.key, self.fingerprint)
            raise
        self.cache.write(self.key, token, self.fingerprint)
        self.cache.clear_refused(self.key, self.fingerprint)
        return token

    def _refuse_if_recently_refused(self) -> None:
        age = self.cache.refused_age(self.key, self.fingerprint)
        if age is not None and age < REFUSED_WINDOW:
            raise AuthenticationError(
                f"a sign-in with these credentials was refused {age:.0f} s ago in another "
                "process; not tried again, so the account does not lock. Check the username "
                f"and password, then run again (in {REFUSED_WINDOW - age:.0f} s at the latest)"
            )


def _token_from_file(data: Any, key: str) -> Token:
    """The Token a cache file holds; ValueError for anything that is not one of ours.

    Every field is checked, since a file another program (or a crash) left behind must
    never hand out a token that breaks a request or never expires (NaN, infinity).
    """
    if not isinstance(data, dict):  # "[]" or "1": JSON, but not a token file
        raise ValueError("not an object")
    if data.get("version") != VERSION or data.get("key") != key:
        raise ValueError("foreign file")
    if not usable_token(data.get("token")):  # would break the header it goes in
        raise ValueError("unusable token")
    expires_at, issued_at = float(data["expires_at"]), float(data["issued_at"])
    referer = data.get("referer")
    if not (math.isfinite(expires_at) and math.isfinite(issued_at)):
        raise ValueError("not a time")
    if referer is not None and not usable_referer(referer):
        raise ValueError("unusable referer")
    return Token(
        value=str(data["token"]),
        expires_at=expires_at,
        issued_at=issued_at,
        referer=referer,
        ssl=bool(data.get("ssl", False)),
        audience=str(data.get("audience", "")),
    )
