"""The Anthropic key comes from MAKEFX_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY; without one the assistant is `local`."""

from makefx_chat.app import configured_assistant
from makefx_chat.claude import ClaudeAssistant
from makefx_chat.local import LocalAssistant
from makefx_chat.settings import ChatSettings

_KEYS = ("ANTHROPIC_API_KEY", "MAKEFX_ANTHROPIC_API_KEY", "MAKEFX_CHAT_MODEL", "MAKEFX_ANTHROPIC_BASE_URL")


def test_without_a_key_the_local_assistant_answers(monkeypatch):
    for name in _KEYS:
        monkeypatch.delenv(name, raising=False)
    settings = ChatSettings()
    assert settings.anthropic_api_key is None and settings.chat_model == "claude-sonnet-5-5"
    assert isinstance(configured_assistant(settings), LocalAssistant)


def test_the_deploy_files_variable_configures_claude_with_the_settings_model_url_and_retries(monkeypatch):
    for name in _KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-deploy")
    monkeypatch.setenv("MAKEFX_CHAT_MODEL", "claude-opus-5")
    monkeypatch.setenv("MAKEFX_ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("MAKEFX_ANTHROPIC_MAX_RETRIES", "4")

    assistant = configured_assistant(ChatSettings())

    assert isinstance(assistant, ClaudeAssistant) and assistant.model == "claude-opus-5"
    assert assistant.client.api_key == "sk-ant-deploy" and str(assistant.client.base_url) == "http://127.0.0.1:9/"
    assert assistant.client.max_retries == 4


def test_the_makefx_variable_wins_over_nothing_and_keyword_arguments_work(monkeypatch):
    for name in _KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAKEFX_ANTHROPIC_API_KEY", "from-makefx")
    assert ChatSettings().anthropic_api_key.get_secret_value() == "from-makefx"
    assert ChatSettings(anthropic_api_key="given").anthropic_api_key.get_secret_value() == "given"
