"""Template for the "Python script" target of Run with Credentials (ArcTokenTools).

Copy this file, keep a function that takes one argument (``main(ctx)`` by default) and put
your work in it. Run with Credentials signs in, calls the function, and keeps the token valid
however long it runs. The context ``ctx`` gives you:

- ``ctx.session``: a ``requests.Session``; requests to the portal or server you signed in to
  (and to servers federated with it) carry a valid token and its Referer. Other hosts get
  no token.
- ``ctx.request_json(method, url, params)``: an ArcGIS REST call; returns the JSON reply, or
  raises an error with ArcGIS's message (``f=json`` is added for you).
- ``ctx.token()``: a token valid now, for code that must place it itself; send
  ``ctx.referer`` as the Referer header with it. Never print or log it.
- ``ctx.url``: the portal or server signed in to; ``ctx.args``: the "Script Arguments" JSON.
- ``ctx.message(text)``, ``ctx.warning(text)``, ``ctx.progress(label, percent)``: the tool's
  messages and progressor (tokens and passwords are masked).
- ``ctx.sleep(seconds)``: wait between polls (rather than ``time.sleep``). When the user
  presses Cancel in ArcGIS Pro, the run stops at the next ``ctx.sleep``; long loops that do
  not sleep can look at ``ctx.cancelled`` and stop early (tidy up, then return).

Return anything JSON can hold: it is written to the output file as ``result``. Raise an
exception to fail the tool: its traceback becomes the tool's error message.

Script Arguments for this template: ``{"service_url": "https://host/server/rest/services/
Name/MapServer"}``, and optionally ``"pause_seconds"`` between layers.
"""

from __future__ import annotations

from typing import Any, Dict


def main(ctx: Any) -> Dict[str, Any]:
    """Count the features of every layer of a secured service."""
    service = ctx.args.get("service_url")
    if not service:
        raise ValueError('give {"service_url": "<service URL>"} as the Script Arguments')
    ctx.message(f"Reading {service} (signed in to {ctx.url})")
    layers = ctx.request_json("GET", service).get("layers", [])
    counts: Dict[str, Any] = {}
    for number, layer in enumerate(layers):
        ctx.progress(f"Counting {layer['name']}", 100.0 * number / len(layers))
        reply = ctx.request_json(
            "GET", f"{service}/{layer['id']}/query", {"where": "1=1", "returnCountOnly": "true"}
        )
        counts[layer["name"]] = reply.get("count", len(reply.get("features", [])))
        ctx.sleep(float(ctx.args.get("pause_seconds", 0)))
    ctx.message(f"Counted {len(counts)} layer(s)")
    return {"service": service, "counts": counts}
