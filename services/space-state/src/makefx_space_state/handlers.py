"""Bus handlers: one responder for everything a replica answers on `fx.state.<replica>.cmd`, dispatching by type."""

from __future__ import annotations

from makefx_bus import Bus
from makefx_contracts import Message
from makefx_contracts.space import (
    GetAsset,
    GetChatContext,
    GetChatHistory,
    GetEventsSince,
    GetSpaceState,
    GetVariant,
    ListApprovals,
    StateRequest,
)
from makefx_contracts.subjects import STATE_COMMANDS
from makefx_space_state.service import SpaceService


class StateHandlers:
    def __init__(self, service: SpaceService) -> None:
        self.service = service

    async def on_state_request(self, request: StateRequest) -> Message:
        match request:
            case GetSpaceState():
                return await self.service.state_part(request)
            case GetEventsSince():
                return await self.service.get_events_since(request)
            case GetAsset():
                return await self.service.get_asset(request)
            case GetVariant():
                return await self.service.get_variant(request)
            case GetChatHistory():
                return await self.service.get_chat_history(request)
            case ListApprovals():
                return await self.service.list_approvals(request)
            case GetChatContext():
                return await self.service.get_chat_context(request)
            case _:
                return await self.service.apply(request)

    def register(self, bus: Bus, replica_id: str) -> None:
        # Each replica answers only its own subject: the router addresses the owner directly.
        bus.responder(self.on_state_request, subject=STATE_COMMANDS.fill(replica=replica_id), queue=replica_id)
