"""Each service's NATS user may use the subjects of its topology and is refused every other one.

The server is a real nats-server configured by `makefx_natsconfig.render_config`, the same
rendering `deploy/nats/` and the embedded runner use.
"""

from __future__ import annotations

import asyncio
import subprocess

import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer, find_binary
from makefx_contracts import Subject, subjects
from makefx_contracts.identity import GetMembership, Membership, Role
from makefx_contracts.topology import SERVICES, ServiceTopology
from makefx_natsconfig import (
    FromEnvironment,
    deploy_passwords,
    generate_passwords,
    password_variable,
    render_config,
)
from makefx_settings import ServiceSettings
from tests.deploy.conftest import DEPLOY, SecuredNats

ALL_SUBJECTS: dict[str, Subject] = {name: s for name, s in vars(subjects).items() if isinstance(s, Subject)}


def sample(subject: Subject) -> str:
    """A concrete subject of the template, such as `fx.space.t1.events`."""
    return subject.fill(**{name: "t1" for name in subject.params})


def settings_for(secured: SecuredNats, service: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=service,
        nats_url=secured.url,
        nats_user=service,
        nats_password=secured.passwords[service],
        request_timeout_seconds=3,
    )


# -- every subject of subjects.py, allowed or refused as the topology says -----------------------


@pytest.mark.parametrize("service", list(SERVICES.values()), ids=list(SERVICES))
async def test_service_may_publish_exactly_the_subjects_it_publishes_or_requests(
    secured_nats: SecuredNats, service: ServiceTopology
) -> None:
    allowed = {s.template for s in (*service.publishes, *service.requests)}
    async with secured_nats.connect(service.name) as connection:
        for subject in ALL_SUBJECTS.values():
            if subject.template in allowed:
                await connection.client.publish(sample(subject), b"{}")
        await connection.settle()
        assert connection.refused == []
        for subject in ALL_SUBJECTS.values():
            if subject.template not in allowed:
                await connection.client.publish(sample(subject), b"{}")
                await connection.wait_refused(sample(subject))


@pytest.mark.parametrize("service", list(SERVICES.values()), ids=list(SERVICES))
async def test_service_may_subscribe_exactly_to_the_subjects_it_hears_or_answers(
    secured_nats: SecuredNats, service: ServiceTopology
) -> None:
    allowed = {s.template for s in (*service.subscribes, *service.answers)}
    async with secured_nats.connect(service.name) as connection:
        for subject in ALL_SUBJECTS.values():
            if subject.template in allowed:
                await connection.client.subscribe(subject.wildcard, queue=service.name)
        await connection.settle()
        assert connection.refused == []
        for subject in ALL_SUBJECTS.values():
            if subject.template not in allowed:
                await connection.client.subscribe(subject.wildcard)
                await connection.wait_refused(subject.wildcard)


@pytest.mark.parametrize("service", list(SERVICES))
async def test_no_service_may_forge_replies_listen_to_everything_or_destroy_streams(
    secured_nats: SecuredNats, service: str
) -> None:
    async with secured_nats.connect(service) as connection:
        for subject in (
            "_INBOX.someone-else",
            f"$JS.API.STREAM.DELETE.{subjects.STREAM_SPACE_EVENTS}",
            f"$JS.API.STREAM.PURGE.{subjects.STREAM_GENERATION_JOBS}",
            f"$JS.API.CONSUMER.DELETE.{subjects.STREAM_USAGE}.billing",
            "$SYS.REQ.SERVER.PING",
        ):
            await connection.client.publish(subject, b"{}")
            await connection.wait_refused(subject)
        await connection.client.subscribe(">")
        await connection.wait_refused(">")


@pytest.mark.parametrize("service", [name for name, s in SERVICES.items() if subjects.KV_SPACE_OWNERS not in s.writes])
async def test_only_space_state_may_write_leases(secured_nats: SecuredNats, service: str) -> None:
    subject = f"$KV.{subjects.KV_SPACE_OWNERS}.space-1"
    async with secured_nats.connect(service) as connection:
        await connection.client.publish(subject, b"someone")
        await connection.wait_refused(subject)


@pytest.mark.parametrize(
    "service", [name for name, s in SERVICES.items() if subjects.STREAM_GENERATION_JOBS not in s.consumes]
)
async def test_only_generation_may_take_generation_jobs(secured_nats: SecuredNats, service: str) -> None:
    async with secured_nats.connect(service) as connection:
        for subject in (
            f"$JS.API.CONSUMER.CREATE.{subjects.STREAM_GENERATION_JOBS}",
            f"$JS.API.CONSUMER.MSG.NEXT.{subjects.STREAM_GENERATION_JOBS}.generation",
            f"$JS.ACK.{subjects.STREAM_GENERATION_JOBS}.generation.1.1.1.1.1",
        ):
            await connection.client.publish(subject, b"{}")
            await connection.wait_refused(subject)


async def test_a_wrong_password_is_refused(secured_nats: SecuredNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured_nats.url, user="generation", password="p-not-the-password", allow_reconnect=False)


# -- the flows of ARCHITECTURE §3, each party connected as its own user -------------------------------


@pytest.mark.parametrize("service", list(SERVICES))
async def test_service_starts_its_bus_and_provisions_as_its_own_user(secured_nats: SecuredNats, service: str) -> None:
    before = len(secured_nats.violations(service))
    bus = Bus(settings_for(secured_nats, service))
    await bus.start()
    try:
        assert await bus.missing_resources() == []
        await bus.nats.flush(timeout=30)
    finally:
        await bus.stop()
    assert secured_nats.violations(service)[before:] == []


async def test_space_state_asks_the_gateway_for_membership_and_gets_its_answer(secured_nats: SecuredNats) -> None:
    gateway = Bus(settings_for(secured_nats, "gateway"))
    space_state = Bus(settings_for(secured_nats, "space-state"))

    async def on_get_membership(query: GetMembership) -> Membership:
        return Membership(space_id=query.space_id, user_id=query.user_id, role=Role.EDITOR)

    gateway.responder(on_get_membership)
    before = {name: len(secured_nats.violations(name)) for name in ("gateway", "space-state")}
    await gateway.start()
    await space_state.start()
    try:
        reply = await space_state.request(GetMembership(space_id="space-1", user_id="user-1"))
    finally:
        await space_state.stop()
        await gateway.stop()
    assert reply.role is Role.EDITOR
    assert {name: secured_nats.violations(name)[count:] for name, count in before.items()} == {
        "gateway": [],
        "space-state": [],
    }


async def test_space_state_heartbeats_and_holds_leases_while_routers_only_watch(secured_nats: SecuredNats) -> None:
    async with secured_nats.connect("space-state") as owner, secured_nats.connect("gateway") as router:
        owner_js, router_js = owner.client.jetstream(), router.client.jetstream()
        replicas = await owner_js.key_value(subjects.KV_STATE_REPLICAS)
        owners = await owner_js.key_value(subjects.KV_SPACE_OWNERS)
        watched = await router_js.key_value(subjects.KV_STATE_REPLICAS)
        assert (await watched.status()).bucket == subjects.KV_STATE_REPLICAS
        watcher = await watched.watchall()
        try:
            revision = await replicas.put("state-7", b'{"replica":"state-7"}')
            async with asyncio.timeout(5):
                while (entry := await watcher.updates(timeout=30)) is None or entry.key != "state-7":
                    pass
            assert (await watched.get("state-7")).value == b'{"replica":"state-7"}'
            await replicas.delete("state-7", last=revision)

            lease = await owners.create("space-9", b"state-7")
            renewed = await owners.update("space-9", b"state-7", last=lease)
            assert (await owners.get("space-9")).revision == renewed
        finally:
            await watcher.stop()
        await owner.settle()
        await router.settle()
        assert owner.refused == router.refused == []

        # A router may read the replica directory but never write it.
        subject = f"$KV.{subjects.KV_STATE_REPLICAS}.state-7"
        await router.client.publish(subject, b"forged")
        await router.wait_refused(subject)


async def test_events_jobs_chat_turns_and_usage_reach_their_consumers(secured_nats: SecuredNats) -> None:
    space_events = subjects.SPACE_EVENTS.fill(space_id="space-flow")
    async with (
        secured_nats.connect("space-state") as space_state,
        secured_nats.connect("gateway") as gateway,
        secured_nats.connect("generation") as generation,
        secured_nats.connect("chat") as chat,
        secured_nats.connect("billing") as billing,
    ):
        # Gateways fan events out through ordered consumers and hear generation progress.
        fan_out = await gateway.client.jetstream().subscribe(
            subjects.SPACE_EVENTS.wildcard, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
        progress = await gateway.client.subscribe(subjects.GENERATION_PROGRESS.wildcard)
        await gateway.settle()

        owner_js = space_state.client.jetstream()
        ack = await owner_js.publish(space_events, b'{"seq":1}', headers={"Nats-Msg-Id": "space-flow:1"})
        await owner_js.publish(
            subjects.GENERATION_JOBS.fill(media_kind="image"), b"{}", headers={"Nats-Msg-Id": "variant-1:1"}
        )
        await owner_js.publish(subjects.CHAT_REQUESTS.fill(), b"{}", headers={"Nats-Msg-Id": "turn-1"})

        assert (await fan_out.next_msg(timeout=30)).subject == space_events
        # After a handoff the new owner replays the space's events from a sequence.
        replay = await owner_js.subscribe(
            space_events,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=ack.seq),
        )
        assert (await replay.next_msg(timeout=30)).data == b'{"seq":1}'

        # Generation takes the job, reports progress, meters usage and acks.
        generation_js = generation.client.jetstream()
        jobs = await generation_js.pull_subscribe(
            subjects.GENERATION_JOBS.wildcard, durable="generation", stream=subjects.STREAM_GENERATION_JOBS
        )
        (job,) = await jobs.fetch(1, timeout=30)
        await job.in_progress()
        await generation.client.publish(subjects.GENERATION_PROGRESS.fill(space_id="space-flow"), b"{}")
        await generation_js.publish(subjects.USAGE_EVENTS.fill(), b"{}", headers={"Nats-Msg-Id": "usage-gen-1"})
        await job.ack_sync()
        assert (await progress.next_msg(timeout=30)).subject == subjects.GENERATION_PROGRESS.fill(space_id="space-flow")

        # Chat answers its turn and meters it.
        chat_js = chat.client.jetstream()
        turns = await chat_js.pull_subscribe(subjects.CHAT_REQUESTS.fill(), durable="chat")
        (turn,) = await turns.fetch(1, timeout=30)
        await chat_js.publish(subjects.USAGE_EVENTS.fill(), b"{}", headers={"Nats-Msg-Id": "usage-chat-1"})
        await turn.ack_sync()

        # Billing reads the ledger's input from USAGE.
        usage = await billing.client.jetstream().pull_subscribe(
            subjects.USAGE_EVENTS.fill(), durable="billing", stream=subjects.STREAM_USAGE
        )
        events = await usage.fetch(2, timeout=30)
        for event in events:
            await event.ack_sync()
        assert len(events) == 2

        for connection in (space_state, gateway, generation, chat, billing):
            await connection.settle()
            assert (connection.user, connection.refused) == (connection.user, [])


@pytest.mark.parametrize(
    ("asker", "answerer", "subject"),
    [
        ("generation", "media", subjects.MEDIA.fill(op="ingest")),
        ("space-state", "media", subjects.MEDIA.fill(op="delete")),
        ("gateway", "billing", subjects.BILLING.fill(op="summary")),
        ("media", "space-state", subjects.STATE_COMMANDS.fill(replica="state-3")),
        ("chat", "space-state", subjects.STATE_COMMANDS.fill(replica="state-3")),
    ],
)
async def test_requests_are_answered_on_the_askers_inbox(
    secured_nats: SecuredNats, asker: str, answerer: str, subject: str
) -> None:
    async with secured_nats.connect(answerer) as responder, secured_nats.connect(asker) as requester:

        async def answer(msg: nats.aio.msg.Msg) -> None:
            await msg.respond(b'{"type":"ok"}')

        await responder.client.subscribe(subject, queue=answerer, cb=answer)
        await responder.settle()
        # Seen twice in ~50 runs: "no responders" although the subscription was flushed.
        # Permissions are the subject here, so a bounded retry covers that race.
        for attempt in range(3):
            try:
                reply = await requester.client.request(subject, b"{}", timeout=30)
                break
            except nats.errors.NoRespondersError:
                if attempt == 2:
                    raise
                await responder.settle()
                await requester.settle()
        assert reply.data == b'{"type":"ok"}'
        await responder.settle()
        await requester.settle()
        assert responder.refused == requester.refused == []


# -- the engineer's read-only user -----------------------------------------------------------------------


async def test_debug_user_watches_subjects_and_reads_streams_and_buckets_but_changes_nothing(
    secured_nats: SecuredNats,
) -> None:
    async with secured_nats.connect("space-state") as owner, secured_nats.connect("debug") as debug:
        owners = await owner.client.jetstream().key_value(subjects.KV_SPACE_OWNERS)
        await owners.put("space-debug", b"state-0")

        js = debug.client.jetstream()
        live = await debug.client.subscribe(subjects.SPACE_EVENTS.wildcard)  # nats sub 'fx.space.*.events'
        await debug.settle()
        names = {info.config.name for info in await js.streams_info()}  # nats stream ls
        assert {subjects.STREAM_SPACE_EVENTS, subjects.STREAM_USAGE} <= names
        kv = await js.key_value(subjects.KV_SPACE_OWNERS)  # nats kv get fx_space_owners space-debug
        assert (await kv.get("space-debug")).value == b"state-0"
        view = await js.subscribe(  # nats stream view SPACE_EVENTS
            subjects.SPACE_EVENTS.wildcard, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
        await owner.client.jetstream().publish(
            subjects.SPACE_EVENTS.fill(space_id="space-debug"), b"{}", headers={"Nats-Msg-Id": "space-debug:1"}
        )
        assert (await live.next_msg(timeout=30)).subject == subjects.SPACE_EVENTS.fill(space_id="space-debug")
        assert (await view.next_msg(timeout=30)).subject == subjects.SPACE_EVENTS.fill(space_id="space-debug")
        await debug.settle()
        assert debug.refused == []

        for subject in (
            sample(subjects.STATE_COMMANDS),
            f"$KV.{subjects.KV_SPACE_OWNERS}.space-debug",
            f"$JS.API.STREAM.PURGE.{subjects.STREAM_USAGE}",
            # Even a consumer that acknowledges nothing would take jobs away from a work queue.
            f"$JS.API.CONSUMER.CREATE.{subjects.STREAM_GENERATION_JOBS}",
        ):
            await debug.client.publish(subject, b"{}")
            await debug.wait_refused(subject)


# -- the deployed configuration: passwords from the environment -------------------------------------


def deploy_environment() -> dict[str, str]:
    return {password_variable(user): password for user, password in generate_passwords().items()}


def test_deploy_config_is_valid_when_every_password_variable_is_set(tmp_path) -> None:
    environment = deploy_environment()
    checked = subprocess.run(
        [find_binary(), "-t", "-c", str(DEPLOY / "nats" / "nats-server.conf")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_deploy_config_names_the_missing_password_variable() -> None:
    environment = deploy_environment()
    del environment[password_variable("billing")]
    checked = subprocess.run(
        [find_binary(), "-t", "-c", str(DEPLOY / "nats" / "nats-server.conf")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode != 0
    assert "NATS_BILLING_PASSWORD" in checked.stdout + checked.stderr


async def test_a_service_connects_with_the_password_its_variable_gives_the_server(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = deploy_environment()
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    passwords = deploy_passwords()
    assert passwords["media"] == FromEnvironment("NATS_MEDIA_PASSWORD")
    config = tmp_path / "nats-server.conf"
    config.write_text(render_config(passwords, jetstream_dir=None))
    with NatsServer(tmp_path / "store", config_file=config) as server:
        bus = Bus(
            ServiceSettings(
                service_name="media",
                nats_url=server.url,
                nats_user="media",
                nats_password=environment["NATS_MEDIA_PASSWORD"],
            )
        )
        await bus.start()
        try:
            assert await bus.missing_resources() == []
        finally:
            await bus.stop()
