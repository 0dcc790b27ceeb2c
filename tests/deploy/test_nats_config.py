"""deploy/nats/ is exactly what `python -m makefx_natsconfig` generates from the topology, and the topology is whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from makefx_bus.streams import bucket_specs, stream_specs
from makefx_contracts import Subject, subjects
from makefx_contracts.topology import SERVICES
from makefx_natsconfig.deploy import deploy_files
from makefx_settings import ServiceSettings
from tests.deploy.conftest import DEPLOY, REPO


def test_committed_nats_config_is_the_generated_one() -> None:
    for name, content in deploy_files().items():
        committed = DEPLOY / "nats" / name
        assert committed.read_text() == content, f"{committed} drifted: run `python -m makefx_natsconfig`"


def test_generator_writes_the_deploy_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "makefx_natsconfig", str(tmp_path)], cwd=REPO, check=True, timeout=60)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == deploy_files()


def _captures(pattern: str, subject: str) -> bool:
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(wanted) == len(tokens)


def _stream_of(subject: Subject) -> str | None:
    for stream in stream_specs(ServiceSettings()):
        if any(_captures(pattern, subject.wildcard) for pattern in stream.subjects):
            return stream.name
    return None


def test_every_request_subject_has_an_answerer_and_every_answered_subject_an_asker() -> None:
    asked = {s.template for t in SERVICES.values() for s in t.requests}
    answered = {s.template for t in SERVICES.values() for s in t.answers}
    assert asked == answered


def test_every_core_subject_published_is_heard_and_every_stream_is_fed_and_consumed() -> None:
    published = {s for t in SERVICES.values() for s in t.publishes}
    heard = {s.template for t in SERVICES.values() for s in t.subscribes}
    core = {s.template for s in published if _stream_of(s) is None}
    assert core <= heard
    fed = {_stream_of(s) for s in published} - {None}
    consumed = {stream for t in SERVICES.values() for stream in t.consumes}
    assert fed == consumed == {s.name for s in stream_specs(ServiceSettings())}


def test_every_bucket_has_a_writer_and_every_subject_constant_a_user() -> None:
    written = {b for t in SERVICES.values() for b in t.writes}
    read = {b for t in SERVICES.values() for b in t.reads}
    assert read <= written == {b.name for b in bucket_specs(ServiceSettings())}
    declared = {s.template for s in vars(subjects).values() if isinstance(s, Subject)}
    used = {s.template for t in SERVICES.values() for s in (*t.publishes, *t.subscribes, *t.requests, *t.answers)}
    assert used == declared
