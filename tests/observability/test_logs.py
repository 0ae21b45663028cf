"""Log lines: JSON in production, plain text in development, with their context; noise stopped at its source."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mozaiks_core.observability.logs import bind, log_context, logging_config, unbind


@pytest.fixture
def configured(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger configured by :func:`logging_config` (JSON when the test's param is True), writing to a buffer."""
    config = logging_config(json_lines=request.param, level="INFO")
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    config["root"] = {"level": "WARNING"}
    config["loggers"] = {"mozaiks_core.test_logs": {"handlers": ["console"], "level": "INFO", "propagate": False}}
    config["disable_existing_loggers"] = False
    logging.config.dictConfig(config)
    yield logging.getLogger("mozaiks_core.test_logs"), stream
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)  # the session's own configuration again


@pytest.mark.parametrize("configured", [True], indirect=True)
def test_a_production_line_is_one_json_object_with_its_context_and_no_secret(configured: Any) -> None:
    logger, stream = configured
    with log_context(request_id="req-1", chat_id="chat-9", org=7):
        token = bind(run_id="run-3")
        logger.warning("socket GET /ws/x?access_token=eyJsecret.value&x=1 refused")
        unbind(token)
        logger.info("after the run")
    logger.info("outside")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "socket GET /ws/x?access_token=[redacted]&x=1 refused"
    assert {key: first[key] for key in ("level", "logger", "request_id", "chat_id", "run_id", "org")} == {
        "level": "WARNING", "logger": "mozaiks_core.test_logs", "request_id": "req-1", "chat_id": "chat-9",
        "run_id": "run-3", "org": "7"}
    assert "eyJsecret" not in stream.getvalue()
    assert "run_id" not in second
    assert second["chat_id"] == "chat-9"
    assert set(third) == {"ts", "level", "logger", "message"}


@pytest.mark.parametrize("configured", [True], indirect=True)
def test_an_exception_stays_inside_its_json_line(configured: Any) -> None:
    logger, stream = configured
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    [line] = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exc"]


@pytest.mark.parametrize("configured", [False], indirect=True)
def test_a_development_line_is_plain_text_with_its_context(configured: Any) -> None:
    logger, stream = configured
    with log_context(chat_id="chat-9"):
        logger.info("hello")
    line = stream.getvalue().strip()
    assert line.endswith("INFO mozaiks_core.test_logs: chat_id=chat-9 hello")
    assert not line.startswith("{")


def test_an_unknown_context_field_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"\['user'\] are unknown; use request_id, chat_id, run_id, org"):
        bind(user="alice")


def test_the_in_memory_broker_connects_without_kombus_hostname_warning(settings: Any, caplog: Any) -> None:
    from kombu import Connection

    with caplog.at_level(logging.WARNING, logger="kombu"):
        Connection(settings.CELERY_BROKER_URL).info()
    assert settings.CELERY_BROKER_URL.startswith("memory://")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("kombu")] == []


def test_a_workflow_that_fails_to_load_is_logged_once_per_reload_with_file_and_reason(
    tmp_path: Path, settings: Any, caplog: Any
) -> None:
    from mozaiks_core.runtime.bundles import get_registry

    broken = tmp_path / "Broken"
    broken.mkdir()
    (broken / "orchestrator.yaml").write_text("workflow_name: Broken\nmax_turns: [\n")
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(tmp_path)]
    try:
        with caplog.at_level(logging.ERROR, logger="mozaiks_core.runtime.bundles.registry"):
            registry = get_registry(refresh=True)
            get_registry()
            get_registry()
        assert "Broken" in registry.errors
        lines = [record.getMessage() for record in caplog.records if "Broken" in record.getMessage()]
        assert len(lines) == len(registry.errors["Broken"]) >= 1
        assert "orchestrator.yaml" in lines[0]
        assert "yaml" in lines[0].lower()
        assert lines[0].startswith("workflow Broken is unavailable: ")
    finally:
        settings.MOZAIKS_WORKFLOW_ROOTS = []
        get_registry(refresh=True)
