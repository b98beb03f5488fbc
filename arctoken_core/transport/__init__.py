"""The wire: settings, session factory, retries, failures, replies, and ArcGISAuth with scope.

- ``settings``: HttpSettings (proxy, TLS, timeouts, retries).
- ``session``: make_session, the one place a requests.Session is made.
- ``retry``: the urllib3 Retry subclass (what is retried, how long to wait).
- ``failures``: call(), and what each network failure means (typed errors).
- ``replies``: read_json and the ArcGIS error envelope, read in one place.
- ``guard``: the plain-http rule for secrets.
- ``auth`` and ``scope``: the token on trusted hosts only, and the one 498/499 retry.
"""
