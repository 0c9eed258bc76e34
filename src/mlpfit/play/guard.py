"""Who may use the playground's API: only the playground's own page.

A page from anywhere else (another site, a run folder's planted report.html, a DNS-rebound name)
must not train, upload or save. Three checks, on every request under /api/ (an ASGI middleware,
so the event stream passes through untouched):

* ``Sec-Fetch-Site``, which browsers set and pages cannot forge: only ``same-origin`` (or ``none``,
  typed in the address bar) passes;
* ``Origin``, when present, must be this server's own (``http://`` + the Host header);
* a request that changes something (any method but GET and HEAD) must carry ``X-Mlpfit-Token``: a
  random token made when the server starts and written into the pages it serves. A report served
  from --runs runs in a sandbox (no script, an opaque origin), so even a same-origin page that is not
  the playground's cannot read it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

TOKEN_HEADER = "x-mlpfit-token"
SAFE_METHODS = ("GET", "HEAD")
OWN_SITES = ("same-origin", "none")  # Sec-Fetch-Site values of the page itself and of a typed URL
# Served run files (reports, plots, csv, json): their own images and styles show; nothing runs,
# and their origin is opaque, so they cannot reach the API as the playground.
RUN_FILE_POLICY = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                   "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_meta(token: str) -> bytes:
    """The tag the pages carry their token in (play.js reads it)."""
    return f'<meta name="mlpfit-token" content="{token}">'.encode()


def refusal(headers: Headers, method: str, scheme: str, token: str) -> str | None:
    """Why the request does not come from the playground's page, or None when it does."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in OWN_SITES:
        return f"the request comes from another page (Sec-Fetch-Site: {site[:20]}): use the playground's own page"
    origin = headers.get("origin")
    if origin is not None and origin != f"{scheme}://{headers.get('host', '')}":
        return f"the request comes from another origin ({origin[:60]!r}): use the playground's own page"
    if method not in SAFE_METHODS and not hmac.compare_digest(headers.get(TOKEN_HEADER, "").encode(), token.encode()):
        return "the request does not carry this server's page token: reload the playground's page"
    return None


class RequestGuard:
    """ASGI middleware: answers 403 ``{"error": ...}`` to /api/ requests that fail :func:`refusal`."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            problem = refusal(Headers(scope=scope), scope["method"], scope.get("scheme", "http"), self.token)
            if problem is not None:
                await JSONResponse({"error": problem}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
