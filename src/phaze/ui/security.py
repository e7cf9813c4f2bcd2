"""Request checks: the Host header (against DNS rebinding) and the session token."""
from __future__ import annotations

import secrets

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

TOKEN_COOKIE = "phaze_token"
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def allowed_hosts(bind_host: str, port: int) -> frozenset[str]:
    """Host header values a browser sends for this server (`name:port`)."""
    names = set(LOCAL_NAMES)
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host)
    return frozenset(f"{name}:{port}" for name in names)


class GuardMiddleware(BaseHTTPMiddleware):
    """400 for a foreign Host header, 403 without the token (query `token` or the cookie).

    A valid `?token=` sets an HttpOnly, SameSite=Strict cookie so the page's own requests
    need not carry the token in every URL.
    """

    def __init__(self, app, token: str, hosts: frozenset[str]) -> None:
        super().__init__(app)
        self.token, self.hosts = token, hosts

    async def dispatch(self, request: Request, call_next) -> Response:
        host = request.headers.get("host", "")
        if host not in self.hosts:
            return PlainTextResponse(f"host '{host}' is not served here", status_code=400)
        query_token = request.query_params.get("token")
        given = query_token or request.cookies.get(TOKEN_COOKIE) or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return PlainTextResponse("a valid token is required: open the URL `phaze ui` "
                                     "printed", status_code=403)
        response = await call_next(request)
        if query_token:
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        return response
