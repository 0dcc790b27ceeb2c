"""Who is calling: an access token from `Authorization: Bearer` or the HttpOnly access cookie."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from makefx_contracts.errors import Unauthenticated
from makefx_gateway.service import Accounts, Principal
from makefx_telemetry import bind_actor

COOKIE_PATH = "/api"


@dataclass(frozen=True)
class AccessCookie:
    """The browser's copy of the access token: HttpOnly, SameSite=Lax, Secure unless configured off."""

    name: str
    secure: bool

    def set(self, response: Response, token: str, expires_at: datetime, now: datetime) -> None:
        response.set_cookie(
            self.name,
            token,
            max_age=max(0, math.ceil((expires_at - now).total_seconds())),
            path=COOKIE_PATH,
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(self.name, path=COOKIE_PATH, httponly=True, secure=self.secure, samesite="lax")


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the handlers' names (`login`, `add_member`): stable for generated clients."""
    return route.name


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Credentials:
    """FastAPI dependencies that read the caller's credentials."""

    access_token: Callable[..., Awaitable[str | None]]
    principal: Callable[..., Awaitable[Principal]]


def credentials(accounts: Accounts, cookie: AccessCookie) -> Credentials:
    bearer_scheme = HTTPBearer(auto_error=False, description="the accessToken from register, login or refresh")
    cookie_scheme = APIKeyCookie(name=cookie.name, auto_error=False, description="set by register, login and refresh")

    async def access_token(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
        cookie_token: str | None = Depends(cookie_scheme),
    ) -> str | None:
        """The bearer token when an Authorization header is sent, else the cookie's."""
        if request.headers.get("authorization") is not None:
            if bearer is None:
                raise Unauthenticated("use `Authorization: Bearer <accessToken>`", details={"reason": "invalid"})
            return bearer.credentials
        return cookie_token or None

    async def principal(token: str | None = Depends(access_token)) -> Principal:
        if token is None:
            raise Unauthenticated("sign in first: send an access token", details={"reason": "missing"})
        principal = await accounts.authenticate(token)
        bind_actor(principal.user_id)
        return principal

    return Credentials(access_token=access_token, principal=principal)
