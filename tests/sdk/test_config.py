"""`init()` settings: explicit arguments over `TOKENTRAIL_*` environment variables over defaults."""

from __future__ import annotations

import pytest

from tokentrail._config import DEFAULT_ENDPOINT, DEFAULT_MAX_PAYLOAD_CHARS, resolve_settings


def test_defaults() -> None:
    settings = resolve_settings({})
    assert settings.endpoint == DEFAULT_ENDPOINT == "http://127.0.0.1:4318"
    assert settings.traces_url == "http://127.0.0.1:4318/v1/traces"
    assert settings.api_key is None and settings.project is None and settings.service_name is None
    assert settings.capture_content is True
    assert settings.sample_rate == 1.0
    assert settings.max_payload_chars == DEFAULT_MAX_PAYLOAD_CHARS == 32_000


def test_environment() -> None:
    settings = resolve_settings(
        {
            "TOKENTRAIL_ENDPOINT": "https://tt.example.com/",
            "TOKENTRAIL_API_KEY": "k",
            "TOKENTRAIL_PROJECT": "p",
            "TOKENTRAIL_SERVICE_NAME": "s",
            "TOKENTRAIL_CAPTURE_CONTENT": "off",
            "TOKENTRAIL_SAMPLE_RATE": "0.25",
        }
    )
    assert settings.traces_url == "https://tt.example.com/v1/traces"
    assert (settings.api_key, settings.project, settings.service_name) == ("k", "p", "s")
    assert settings.capture_content is False
    assert settings.sample_rate == 0.25


def test_arguments_win_over_environment() -> None:
    environ = {
        "TOKENTRAIL_ENDPOINT": "http://env",
        "TOKENTRAIL_CAPTURE_CONTENT": "0",
        "TOKENTRAIL_SAMPLE_RATE": "0",
    }
    settings = resolve_settings(environ, endpoint="http://arg", capture_content=True, sample_rate=1.0)
    assert settings.endpoint == "http://arg"
    assert settings.capture_content is True
    assert settings.sample_rate == 1.0


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), (" yes ", True), ("no", False), ("0", False)]
)
def test_capture_content_spellings(raw: str, expected: bool) -> None:
    assert resolve_settings({"TOKENTRAIL_CAPTURE_CONTENT": raw}).capture_content is expected


@pytest.mark.parametrize(
    ("name", "raw", "field", "default"),
    [
        ("TOKENTRAIL_CAPTURE_CONTENT", "maybe", "capture_content", True),
        ("TOKENTRAIL_SAMPLE_RATE", "lots", "sample_rate", 1.0),
        ("TOKENTRAIL_SAMPLE_RATE", "2", "sample_rate", 1.0),
        ("TOKENTRAIL_SAMPLE_RATE", "nan", "sample_rate", 1.0),
    ],
)
def test_bad_environment_values_fall_back_with_a_warning(
    name: str, raw: str, field: str, default: object, caplog: pytest.LogCaptureFixture
) -> None:
    settings = resolve_settings({name: raw})
    assert getattr(settings, field) == default
    assert name in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate": -0.1},
        {"sample_rate": 1.01},
        {"max_payload_chars": 0},
        {"max_queue_size": -1},
        {"max_export_batch_size": 0},
        {"schedule_delay_ms": 0},
        {"redact": "not callable"},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        resolve_settings({}, **kwargs)  # type: ignore[arg-type]


def test_batch_size_never_exceeds_queue_size() -> None:
    assert resolve_settings({}, max_queue_size=10, max_export_batch_size=100).max_export_batch_size == 10
