"""Wires the gateway: database, tokens, services, HTTP routes, bus responders; built by `bootstrap`."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI

from makefx_auth import AccessTokens
from makefx_bus import Bus
from makefx_gateway.errors import install_error_handlers
from makefx_gateway.handlers import IdentityResponders
from makefx_gateway.http.auth import auth_router
from makefx_gateway.http.frontend import frontend_router
from makefx_gateway.http.limits import BodyLimit, RouteLimit
from makefx_gateway.http.media import ONE_STEP_UPLOAD_PATH, MediaClient, media_router, upload_body_limit
from makefx_gateway.http.model_registry import models_router
from makefx_gateway.http.realtime import realtime_router
from makefx_gateway.http.security import AccessCookie, credentials
from makefx_gateway.http.spaces import spaces_router
from makefx_gateway.http.usage import usage_router
from makefx_gateway.passwords import Passwords
from makefx_gateway.ratelimit import LoginLimits, SlidingWindow
from makefx_gateway.realtime.hub import SpaceHub
from makefx_gateway.realtime.presence import PresenceBoard
from makefx_gateway.service import Accounts, Spaces
from makefx_gateway.settings import GatewaySettings
from makefx_gateway.store import SqlStore, create_engine
from makefx_router import ReplicaDirectory, SpaceRouter
from makefx_runtime import Service, build_app


def bootstrap(settings: GatewaySettings) -> FastAPI:
    store = SqlStore(create_engine(settings.resolved_database_url()))
    tokens = AccessTokens(
        settings.signing_keys(), issuer=settings.jwt_issuer, ttl_seconds=settings.access_token_ttl_seconds
    )
    passwords = Passwords(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )
    limits = LoginLimits(
        per_email=SlidingWindow(settings.login_attempts_per_email, settings.login_window_seconds),
        per_address=SlidingWindow(settings.login_attempts_per_address, settings.login_window_seconds),
    )
    accounts = Accounts(
        store, passwords, tokens, limits, refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds)
    )
    bus = Bus(settings)
    spaces = Spaces(store, notify=bus.publish)
    directory = ReplicaDirectory(bus)
    router = SpaceRouter(bus, directory)
    hub = SpaceHub(
        bus, PresenceBoard(gateway_id=f"{settings.service_name}-{uuid.uuid4().hex[:8]}"), role_of=spaces.role_of
    )
    identity = IdentityResponders(accounts, spaces)
    bus.responder(identity.on_get_membership)
    bus.responder(identity.on_get_user)

    cookie = AccessCookie(name=settings.access_cookie_name, secure=settings.access_cookie_secure)
    caller = credentials(accounts, cookie)
    media = MediaClient()
    app = build_app(
        Service(
            settings=settings,
            bus=bus,
            title="Make Effects gateway",
            routers=[
                auth_router(accounts, cookie, caller),
                spaces_router(spaces, caller),
                usage_router(bus, spaces, caller),
                models_router(),
                media_router(settings, spaces, bus, router, caller, media),
                realtime_router(
                    accounts,
                    spaces,
                    hub,
                    router,
                    cookie,
                    caller,
                    outbox_limit=settings.socket_outbox_limit,
                    media_cdn_base_url=settings.media_cdn_base_url,
                ),
            ],
            on_start=[store.migrate, directory.start, hub.start, media.start],
            on_stop=[store.close, directory.stop, hub.stop, media.stop],
            checks=[store.problem],
            openapi_url="/api/openapi.json",
        )
    )
    if settings.frontend_dir is not None:
        # Last, so every API route matches first.
        app.include_router(frontend_router(settings.frontend_dir))
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        routes=[RouteLimit("POST", ONE_STEP_UPLOAD_PATH, upload_body_limit(settings))],
    )
    return app
