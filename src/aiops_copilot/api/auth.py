"""The API token: ``Authorization: Bearer <token>``, compared in constant time.

HTTP Basic with the token as the password (any user name) is accepted too, because several
shippers can send a user and password but no custom header (Fluent Bit's ``es`` output,
``HTTP_User``/``HTTP_Passwd``). Health endpoints never ask for it: a load balancer or a
kubelet probing ``/healthz`` has no token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.security import HTTPBearer

from aiops_copilot.api.errors import ApiError

#: Declares the scheme in the OpenAPI document; the check itself is :func:`token_guard`.
bearer = HTTPBearer(auto_error=False, description="AIOPS_API_TOKEN as a Bearer token")


def presented(header: str | None) -> bytes | None:
    """The token a request presents (Bearer, or the password of HTTP Basic)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value.encode("utf-8", errors="replace")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        _, colon, password = decoded.partition(b":")
        return password if colon else None
    return None


def token_guard(token: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (401) any request that does not present ``token``."""
    expected = token.encode("utf-8")

    async def guard(request: Request) -> None:
        given = presented(request.headers.get("authorization"))
        if given is None or not hmac.compare_digest(given, expected):
            raise ApiError(
                401,
                "missing or wrong API token: send Authorization: Bearer <AIOPS_API_TOKEN>",
                headers={"WWW-Authenticate": 'Bearer realm="aiops"'},
            )

    return guard
