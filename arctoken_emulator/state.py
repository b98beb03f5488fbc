"""Everything the emulated ArcGIS remembers, under one lock: accounts, tokens, jobs, the log."""

from __future__ import annotations

import math
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from .clock import Clock
from .envelopes import INVALID_CREDENTIALS
from .records import RequestRecord

API_KEY = "apikey"
"""The audience name that admits API keys."""
_PRUNE_AT = 10_000


@dataclass
class TokenRecord:
    """What the emulator knows about one issued token."""

    audience: str
    """The origin that accepts it (online, portal, server, federated) or ``apikey``."""
    username: str
    referer: Optional[str]
    """When set, the token is valid only with exactly this ``Referer`` header."""
    expires_at: float
    """Epoch seconds on the emulated servers' clock."""
    kind: str = "user"
    """user, app, server (from a federated exchange) or apikey."""


@dataclass
class Job:
    """One asynchronous geoprocessing job."""

    job_id: str
    origin: str
    submitted_at: float
    duration: float
    fail: bool
    params: Dict[str, str]
    cancelled_at: Optional[float] = None


@dataclass
class Settings:
    """The emulator's knobs that state decisions depend on."""

    token_lifetime: float = 3600.0
    server_clock_offset: float = 0.0
    lockout_threshold: int = 5
    lockout_seconds: float = 900.0
    lockout_message: str = "Too many invalid logon attempts. Try again later."
    restricted_users: FrozenSet[str] = field(default_factory=frozenset)
    oauth_token_lifetime: float = 1800.0
    """Access tokens from OAuth user sign-in live 30 minutes (capped by ``token_lifetime``)."""
    refresh_token_lifetime: float = 1_209_600.0
    """Refresh tokens live two weeks unless the sign-in asked for less."""


class State:
    """Accounts, tokens, lockouts, GP jobs and the request log; every method takes the lock."""

    def __init__(
        self,
        clock: Clock,
        settings: Settings,
        users: Dict[str, str],
        apps: Dict[str, str],
        api_keys: Dict[str, Optional[float]],
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.users = users
        self.apps = apps
        self.api_keys = api_keys
        self.lock = threading.RLock()
        self.jobs: Dict[str, Job] = {}
        self._tokens: Dict[str, TokenRecord] = {}
        self._revoked: Set[str] = set()
        self._failures: Dict[str, int] = {}
        self._locked_until: Dict[str, float] = {}
        self._log: List[RequestRecord] = []

    # -- time --------------------------------------------------------------------------------
    def server_now(self) -> float:
        """The emulated servers' clock: the emulator clock plus the configured offset."""
        return self.clock() + self.settings.server_clock_offset

    def http_date(self) -> str:
        """An RFC 7231 ``Date`` header value from the servers' clock."""
        return formatdate(self.server_now(), usegmt=True)

    # -- accounts ----------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> Optional[str]:
        """None when the password is right; otherwise the detail line to answer with."""
        with self.lock:
            now = self.clock()
            until = self._locked_until.get(username)
            if until is not None and now < until:
                return self.settings.lockout_message
            if until is not None:
                del self._locked_until[username]
                self._failures.pop(username, None)
            if username in self.users and self.users[username] == password:
                self._failures.pop(username, None)
                return None
            if username in self.users:
                self._count_failure(username, now)
            return INVALID_CREDENTIALS

    def _count_failure(self, username: str, now: float) -> None:
        count = self._failures.get(username, 0) + 1
        self._failures[username] = count
        threshold = self.settings.lockout_threshold
        if threshold > 0 and count >= threshold:
            self._locked_until[username] = now + self.settings.lockout_seconds

    def failed_logins(self, username: str) -> int:
        """Bad passwords counted against ``username`` since its last success or unlock."""
        with self.lock:
            until = self._locked_until.get(username)
            if until is not None and self.clock() >= until:
                return 0
            return self._failures.get(username, 0)

    def check_app(self, client_id: str, client_secret: str) -> Optional[str]:
        """None for good app credentials, else ``invalid_client_id`` or ``invalid_client``."""
        with self.lock:
            if client_id not in self.apps:
                return "invalid_client_id"
            return None if self.apps[client_id] == client_secret else "invalid_client"

    # -- tokens ------------------------------------------------------------------------------
    def issue(
        self,
        audience: str,
        username: str,
        lifetime: float,
        referer: Optional[str] = None,
        kind: str = "user",
    ) -> Tuple[str, TokenRecord]:
        """Mint a random token valid for ``lifetime`` seconds of server time."""
        value = secrets.token_urlsafe(32)
        record = TokenRecord(audience, username, referer, self.server_now() + lifetime, kind)
        with self.lock:
            if len(self._tokens) >= _PRUNE_AT:
                self._prune()
            self._tokens[value] = record
        return value, record

    def _prune(self) -> None:
        now = self.server_now()
        expired = [value for value, rec in self._tokens.items() if rec.expires_at <= now]
        for value in expired:
            del self._tokens[value]

    def validate(
        self, value: str, audiences: Iterable[str], referer: Optional[str]
    ) -> Optional[TokenRecord]:
        """The token's record when it is live, meant for one of ``audiences`` and the referer
        matches its binding; otherwise None."""
        allowed = set(audiences)
        with self.lock:
            if value in self._revoked:
                return None
            record = self._tokens.get(value)
            if record is None:
                return self._api_key(value) if API_KEY in allowed else None
            if record.audience not in allowed or record.expires_at <= self.server_now():
                return None
            if record.referer is not None and record.referer != referer:
                return None
            return record

    def _api_key(self, value: str) -> Optional[TokenRecord]:
        if value not in self.api_keys:
            return None
        expiry = self.api_keys[value]
        if expiry is not None and expiry <= self.server_now():
            return None
        ends = math.inf if expiry is None else expiry
        return TokenRecord(API_KEY, "apikey", None, ends, API_KEY)

    def revoke(self, value: str) -> None:
        """Make a token (or API key) invalid from now on."""
        with self.lock:
            self._revoked.add(value)

    # -- jobs --------------------------------------------------------------------------------
    def add_job(self, origin: str, duration: float, fail: bool, params: Dict[str, str]) -> Job:
        """Start a GP job now."""
        job = Job("j" + secrets.token_hex(16), origin, self.clock(), duration, fail, params)
        with self.lock:
            self.jobs[job.job_id] = job
        return job

    def job(self, origin: str, job_id: str) -> Optional[Job]:
        """The job ``job_id`` if it was submitted to ``origin``."""
        with self.lock:
            job = self.jobs.get(job_id)
        return job if job is not None and job.origin == origin else None

    # -- request log -------------------------------------------------------------------------
    def log(self, record: RequestRecord) -> None:
        """Remember one request."""
        with self.lock:
            self._log.append(record)

    def requests(self) -> List[RequestRecord]:
        """A copy of the request log."""
        with self.lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self.lock:
            self._log.clear()
