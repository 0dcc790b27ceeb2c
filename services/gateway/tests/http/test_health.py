"""Readiness and failure of the database: a lost database is 503 UNAVAILABLE, never a 500."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy.engine import make_url

from makefx_gateway.settings import GatewaySettings

SECRET = "test-secret-that-is-long-enough-for-hs256"


async def test_a_lost_database_makes_the_gateway_unready_and_answers_503(
    postgres_url: str, nats_server, tmp_path, start_gateway, error
) -> None:
    name = f"gw_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        settings = GatewaySettings(
            nats_url=nats_server.url,
            data_dir=tmp_path,
            database_url=make_url(postgres_url).set(database=name).render_as_string(hide_password=False),
            jwt_secret=SECRET,
            argon2_time_cost=1,
            argon2_memory_cost_kib=8,
            argon2_parallelism=1,
        )
        gateway = await start_gateway(settings)
        client = gateway.client
        registered = await client.post(
            "/api/auth/register", json={"email": "ada@example.com", "password": "correct password", "name": "Ada"}
        )
        assert registered.status_code == 201
        assert (await client.get("/readyz")).status_code == 200

        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert any("database" in problem for problem in ready.json()["problems"])
        me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {registered.json()['accessToken']}"})
        assert me.status_code == 503
        assert error(me)["code"] == "UNAVAILABLE"
    finally:
        await admin.close()
