"""Services as processes: the environment they get, and what a test sees when one does not come up."""

from __future__ import annotations

from pathlib import Path

import pytest

from makefx_testing.services import TEST_SETTINGS, ServiceProcess, Services, service_env


def test_a_service_gets_the_test_settings_and_none_of_the_developers_settings_or_provider_keys(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("MAKEFX_GEMINI_API_KEY", "a developer's key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real")
    monkeypatch.setenv("POLAR_ACCESS_TOKEN", "polar_oat_real")
    monkeypatch.setenv("HOME_OF_THE_TEST", "kept")

    env = service_env(MAKEFX_NATS_URL="nats://127.0.0.1:4222")

    assert env["HOME_OF_THE_TEST"] == "kept"
    assert env["MAKEFX_NATS_URL"] == "nats://127.0.0.1:4222"
    assert TEST_SETTINGS.items() <= env.items()
    assert not {"MAKEFX_GEMINI_API_KEY", "ANTHROPIC_API_KEY", "POLAR_ACCESS_TOKEN"} & env.keys()


def test_a_second_service_of_a_name_has_a_key_and_a_log_of_its_own(tmp_path: Path):
    services = Services(tmp_path)

    first, second = services.add("generation"), services.add("generation", MAKEFX_JOBS_CONCURRENCY="2")

    assert list(services.processes) == ["generation", "generation-2"]
    assert (first.log.name, second.log.name) == ("generation.log", "generation-2.log")
    assert first.port != second.port and second.env["MAKEFX_JOBS_CONCURRENCY"] == "2"
    assert first.env["MAKEFX_DATA_DIR"] == str(tmp_path / "data")


async def test_a_service_that_exits_fails_the_wait_with_its_output(tmp_path: Path):
    process = ServiceProcess("no-such-service", 1, service_env(), tmp_path / "missing.log")
    process.start()

    with pytest.raises(AssertionError, match="No module named makefx_no_such_service"):
        await process.wait_ready()
    assert not process.is_running
