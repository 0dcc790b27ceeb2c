"""`GET /api/spaces/{spaceId}/ws`: the space's socket, and the REST reads for clients without one.

The upgrade is authenticated before it is accepted: the access token comes from the
`access_token` query parameter (what browsers use, since they cannot set headers on a
WebSocket), an `Authorization: Bearer` header, or the access cookie. A bad token or a
space the caller is not a member of is refused with an HTTP answer (401 / 404) instead
of an upgrade. Once in, the socket follows the caller's membership: the space's room
applies every change pushed by the gateways (see `realtime.hub`), and the role is read
once more after joining, for a change made while the socket was joining.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, WebSocket
from starlette.websockets import WebSocketDisconnect

from makefx_contracts import FxError
from makefx_contracts.errors import NotFound, Unauthenticated
from makefx_contracts.socket import MemberRole
from makefx_contracts.space import MAX_SEQ, AssetDetail, EventsSince, GetAsset, GetEventsSince, SpaceSnapshot
from makefx_gateway.errors import fx_error_response
from makefx_gateway.http.security import AccessCookie, Credentials
from makefx_gateway.realtime.connection import CLOSE_NOT_A_MEMBER, NOT_A_MEMBER, Connection, Who
from makefx_gateway.realtime.hub import SpaceHub
from makefx_gateway.realtime.session import SocketSession
from makefx_gateway.realtime.state import read_state, with_fields
from makefx_gateway.service import Accounts, Principal, Spaces
from makefx_router import SpaceRouter

CLOSE_NORMAL = 1000


def realtime_router(
    accounts: Accounts,
    spaces: Spaces,
    hub: SpaceHub,
    router: SpaceRouter,
    cookie: AccessCookie,
    credentials: Credentials,
    *,
    outbox_limit: int,
    media_cdn_base_url: str | None = None,
) -> APIRouter:
    api = APIRouter(prefix="/api/spaces/{spaceId}", tags=["space content"])
    caller = Depends(credentials.principal)

    async def member(space_id: str, who: Principal) -> None:
        if await spaces.role_of(space_id, who.user_id) is None:
            raise NotFound("space not found", details={"spaceId": space_id})

    @api.websocket("/ws")
    async def space_socket(socket: WebSocket, spaceId: str) -> None:  # noqa: N803 - the path's name
        try:
            token = _token_of(socket, cookie)
            principal = await accounts.authenticate(token)
            role = await spaces.role_of(spaceId, principal.user_id)
            if role is None:
                raise NotFound("space not found", details={"spaceId": spaceId})
            user = await accounts.profile(principal.user_id)
        except FxError as error:
            await socket.send_denial_response(fx_error_response(error))
            return
        await socket.accept()
        connection = Connection(
            socket, spaceId, Who(user.id, user.name, principal.session_id), role, outbox_limit=outbox_limit
        )
        session = SocketSession(connection, hub, router, spaces, media_cdn_base_url=media_cdn_base_url)
        writer = asyncio.create_task(connection.write_loop())
        closed = asyncio.create_task(connection.until_closed())
        reader: asyncio.Task[None] | None = None
        try:
            await hub.join(connection)
            await _recheck_role(connection, spaces)
            reader = asyncio.create_task(_read_frames(socket, session))
            # The first of these ends the socket: the client left, the socket failed, or the
            # connection was closed (too slow, or the gateway is stopping).
            await asyncio.wait({reader, writer, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, closed):
                if task is not None:
                    task.cancel()
            # Leave before the close handshake, which a socket that stopped reading may stall.
            await hub.leave(connection)
            connection.close(CLOSE_NORMAL, "bye")
            await asyncio.gather(
                *(task for task in (reader, writer, closed) if task is not None), return_exceptions=True
            )

    @api.get("/assets", operation_id="list_assets", response_model=SpaceSnapshot)
    async def list_assets(spaceId: str, who: Principal = caller) -> Response:  # noqa: N803
        """Every asset of the space with its variants and lineage, and the space's current seq."""
        await member(spaceId, who)
        seq, body = await read_state(router, spaceId)
        snapshot = with_fields(body, type=SpaceSnapshot.type_name(), spaceId=spaceId, seq=seq)
        return Response(snapshot, media_type="application/json")

    @api.get("/assets/{assetId}", operation_id="get_asset")
    async def get_asset(spaceId: str, assetId: str, who: Principal = caller) -> AssetDetail:  # noqa: N803
        await member(spaceId, who)
        return await router.request(spaceId, GetAsset(space_id=spaceId, asset_id=assetId))

    @api.get("/events", operation_id="list_events")
    async def list_events(
        spaceId: str,  # noqa: N803
        since_seq: Annotated[int, Query(alias="sinceSeq", ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        who: Principal = caller,
    ) -> EventsSince:
        """The events after `sinceSeq` (at most `limit`); `complete: false` when the log no longer reaches back."""
        await member(spaceId, who)
        return await router.request(spaceId, GetEventsSince(space_id=spaceId, since_seq=since_seq, limit=limit))

    return api


async def _recheck_role(connection: Connection, spaces: Spaces) -> None:
    """The role once the room hears membership changes: one made since the upgrade read it was not heard."""
    role = await spaces.role_of(connection.space_id, connection.who.user_id)
    if role is None:
        connection.close(CLOSE_NOT_A_MEMBER, NOT_A_MEMBER)
    elif role != connection.role:
        connection.role = role
        connection.send(MemberRole(role=role).to_json().decode())


async def _read_frames(socket: WebSocket, session: SocketSession) -> None:
    """Hand each client frame to the session, one at a time, until the client goes."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("text") if message.get("text") is not None else message.get("bytes")
            await session.handle(frame or b"")


def _token_of(socket: WebSocket, cookie: AccessCookie) -> str:
    token = socket.query_params.get("access_token")
    if not token:
        authorization = socket.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    token = token or socket.cookies.get(cookie.name)
    if not token:
        raise Unauthenticated("sign in first: pass access_token", details={"reason": "missing"})
    return token
