"""`/api/spaces`: the caller's spaces and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from makefx_gateway.http.models import (
    AddMember,
    ChangeRole,
    CreateSpace,
    MemberList,
    MemberOut,
    MemberReply,
    RenameSpace,
    SpaceList,
    SpaceOut,
    SpaceReply,
)
from makefx_gateway.http.security import Credentials, operation_id
from makefx_gateway.service import Principal, Spaces

SpaceId = Annotated[str, Path(alias="spaceId", max_length=64)]
UserId = Annotated[str, Path(alias="userId", max_length=64)]


def spaces_router(spaces: Spaces, credentials: Credentials) -> APIRouter:
    router = APIRouter(prefix="/api/spaces", tags=["spaces"], generate_unique_id_function=operation_id)
    caller = Depends(credentials.principal)

    @router.get("")
    async def list_spaces(who: Principal = caller) -> SpaceList:
        return SpaceList(spaces=[SpaceOut.of(view) for view in await spaces.list(who.user_id)])

    @router.post("", status_code=status.HTTP_201_CREATED)
    async def create_space(body: CreateSpace, who: Principal = caller) -> SpaceReply:
        return SpaceReply(space=SpaceOut.of(await spaces.create(who.user_id, body.name)))

    @router.get("/{spaceId}")
    async def get_space(space_id: SpaceId, who: Principal = caller) -> SpaceReply:
        return SpaceReply(space=SpaceOut.of(await spaces.get(who.user_id, space_id)))

    @router.patch("/{spaceId}")
    async def rename_space(space_id: SpaceId, body: RenameSpace, who: Principal = caller) -> SpaceReply:
        return SpaceReply(space=SpaceOut.of(await spaces.rename(who.user_id, space_id, body.name)))

    @router.delete("/{spaceId}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_space(space_id: SpaceId, who: Principal = caller) -> Response:
        await spaces.delete(who.user_id, space_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/{spaceId}/members")
    async def list_members(space_id: SpaceId, who: Principal = caller) -> MemberList:
        return MemberList(members=[MemberOut.of(profile) for profile in await spaces.members(who.user_id, space_id)])

    @router.post("/{spaceId}/members", status_code=status.HTTP_201_CREATED)
    async def add_member(space_id: SpaceId, body: AddMember, who: Principal = caller) -> MemberReply:
        return MemberReply(member=MemberOut.of(await spaces.add_member(who.user_id, space_id, body.email, body.role)))

    @router.patch("/{spaceId}/members/{userId}")
    async def change_role(space_id: SpaceId, user_id: UserId, body: ChangeRole, who: Principal = caller) -> MemberReply:
        return MemberReply(member=MemberOut.of(await spaces.change_role(who.user_id, space_id, user_id, body.role)))

    @router.delete("/{spaceId}/members/{userId}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_member(space_id: SpaceId, user_id: UserId, who: Principal = caller) -> Response:
        await spaces.remove_member(who.user_id, space_id, user_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
