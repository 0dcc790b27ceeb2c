"""`/api/auth`: register, login, refresh, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from makefx_gateway.http.models import AuthSession, Login, Logout, Refresh, Register, UserOut, UserReply
from makefx_gateway.http.security import AccessCookie, Credentials, client_address, operation_id
from makefx_gateway.service import Accounts, Principal, SignedIn


def auth_router(accounts: Accounts, cookie: AccessCookie, credentials: Credentials) -> APIRouter:
    router = APIRouter(prefix="/api/auth", tags=["auth"], generate_unique_id_function=operation_id)

    def answer(signed_in: SignedIn, response: Response) -> AuthSession:
        cookie.set(response, signed_in.access_token, signed_in.expires_at, accounts.clock())
        return AuthSession(
            user=UserOut.of(signed_in.user),
            access_token=signed_in.access_token,
            refresh_token=signed_in.refresh_token,
            expires_at=signed_in.expires_at,
        )

    @router.post("/register", status_code=status.HTTP_201_CREATED)
    async def register(body: Register, request: Request, response: Response) -> AuthSession:
        signed_in = await accounts.register(body.email, body.password, body.name, address=client_address(request))
        return answer(signed_in, response)

    @router.post("/login")
    async def login(body: Login, request: Request, response: Response) -> AuthSession:
        signed_in = await accounts.login(body.email, body.password, address=client_address(request))
        return answer(signed_in, response)

    @router.post("/refresh")
    async def refresh(body: Refresh, response: Response) -> AuthSession:
        return answer(await accounts.refresh(body.refresh_token), response)

    @router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(
        body: Logout | None = None, access_token: str | None = Depends(credentials.access_token)
    ) -> Response:
        await accounts.logout(refresh_token=body.refresh_token if body else None, access_token=access_token)
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        cookie.clear(response)
        return response

    @router.get("/me")
    async def me(who: Principal = Depends(credentials.principal)) -> UserReply:
        return UserReply(user=UserOut.of(await accounts.me(who)))

    return router
