"""Who may use a resource: a token gate per resource, with the right error wording."""

from __future__ import annotations

import math
from typing import FrozenSet, Iterable, Optional, Union

from .envelopes import invalid_token, token_required
from .params import request_token
from .records import RequestRecord, Response
from .state import State, TokenRecord

Verdict = Union[TokenRecord, Response]
"""A gate's answer: the caller's token record, or the error reply to send instead."""


class Gate:
    """Checks request tokens against a set of audiences (origins, or ``apikey``)."""

    def __init__(
        self,
        state: State,
        audiences: Iterable[str],
        portal_wording: bool,
        header_tokens: bool = True,
        web_tier: bool = False,
    ) -> None:
        self.state = state
        self.audiences: FrozenSet[str] = frozenset(audiences)
        self.portal_wording = portal_wording
        self.header_tokens = header_tokens
        """False for servers before 10.6, which read tokens only from the query or body."""
        self.web_tier = web_tier
        """True when the web server vouches for the user (a client certificate)."""

    def identify(self, req: RequestRecord) -> Optional[Verdict]:
        """None for an anonymous request, the record for a good token, else a 498 reply."""
        value = request_token(req, self.header_tokens)
        if value is None:
            return self._web_tier_user(req)
        referer = req.headers.get("Referer")
        record = self.state.validate(value, self.audiences, referer)
        return record if record is not None else invalid_token(self.portal_wording)

    def _web_tier_user(self, req: RequestRecord) -> Optional[TokenRecord]:
        if not self.web_tier or req.client_user is None:
            return None
        return TokenRecord("web-tier", req.client_user, None, math.inf, "web-tier")

    def require(self, req: RequestRecord) -> Verdict:
        """Like :meth:`identify`, but an anonymous request gets 499 Token Required."""
        verdict = self.identify(req)
        return token_required(self.portal_wording) if verdict is None else verdict
