"""Provider keys come from MAKEFX_* or from each provider's usual variable, as the deploy files pass them."""

from makefx_generation.settings import GenerationSettings


def test_the_providers_usual_variables_are_read(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    monkeypatch.setenv("ELEVENLABS_API_KEY", "eleven-key")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    settings = GenerationSettings()
    assert settings.gemini_api_key is not None and settings.gemini_api_key.get_secret_value() == "gemini-key"
    assert settings.elevenlabs_api_key is not None and settings.elevenlabs_api_key.get_secret_value() == "eleven-key"
    assert settings.vertex_project == "my-project"


def test_makefx_variables_and_keyword_arguments_work_too(monkeypatch):
    monkeypatch.setenv("MAKEFX_GEMINI_API_KEY", "from-makefx")
    assert GenerationSettings().gemini_api_key.get_secret_value() == "from-makefx"
    assert GenerationSettings(gemini_api_key="given").gemini_api_key.get_secret_value() == "given"


def test_without_any_key_set_no_provider_key_is_configured(monkeypatch):
    for name in ("GEMINI_API_KEY", "ELEVENLABS_API_KEY", "MAKEFX_GEMINI_API_KEY", "MAKEFX_ELEVENLABS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = GenerationSettings()
    assert settings.gemini_api_key is None and settings.elevenlabs_api_key is None
