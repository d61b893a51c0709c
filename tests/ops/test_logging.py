"""Logging: JSON lines with the record's bound context, console rendering, secrets never printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from processor.config.secrets import Secret
from processor.config.settings import OpsSettings
from processor.ops.logging import SecretRedactor, configure_logging
from processor.runtime.headers import redact

API_KEY = "ck_live_7f3a9c2e1b4d8f6a0e5c"
WRITE_KEY = "wk_9d8c7b6a5f4e3d2c1b0a"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "cordial-bridge":
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class TestJsonLines:
    def test_json_by_default_off_a_tty_with_bound_context_on_every_line(self) -> None:
        """Each line is one JSON object carrying event_id/direction/topic/partition/offset."""
        stream = io.StringIO()
        configure_logging(OpsSettings(), stream=stream)
        log = structlog.get_logger("test")
        with structlog.contextvars.bound_contextvars(
            event_id="msg-1", direction="inbound", topic="segment-inbound", partition=2, offset=41
        ):
            log.info("record_sent", action="upsertContact")
            log.warning("record_retried", tier="5s")
        log.info("after_record")
        lines = _lines(stream)
        assert [line["event"] for line in lines] == ["record_sent", "record_retried", "after_record"]
        for line in lines[:2]:
            assert line["event_id"] == "msg-1"
            assert (line["direction"], line["topic"], line["partition"], line["offset"]) == (
                "inbound",
                "segment-inbound",
                2,
                41,
            )
            assert line["timestamp"].endswith("Z")
        assert lines[0]["level"] == "info"
        assert lines[1]["level"] == "warning"
        assert "event_id" not in lines[2]

    def test_a_field_json_cannot_write_never_crashes_the_caller(self) -> None:
        """A dict with tuple keys (as the revoke path once logged) still gives one JSON line."""
        stream = io.StringIO()
        configure_logging(OpsSettings(log_format="json"), stream=stream)
        structlog.get_logger("test").info("partitions_revoked", committed={("t", 0): 5})
        assert _lines(stream)[0]["committed"] == {"('t', 0)": 5}

    def test_level_from_settings_filters_lower_levels(self) -> None:
        stream = io.StringIO()
        configure_logging(OpsSettings(log_level="warning"), stream=stream)
        log = structlog.get_logger("test")
        log.info("hidden")
        log.debug("hidden_too")
        log.error("shown")
        assert [line["event"] for line in _lines(stream)] == ["shown"]

    def test_json_forced_even_on_a_tty(self) -> None:
        stream = FakeTTY()
        configure_logging(OpsSettings(log_format="json"), stream=stream)
        structlog.get_logger("test").info("hello")
        assert _lines(stream)[0]["event"] == "hello"

    def test_exceptions_are_formatted_into_the_line(self) -> None:
        stream = io.StringIO()
        configure_logging(OpsSettings(), stream=stream)
        try:
            raise ValueError("boom")
        except ValueError:
            structlog.get_logger("test").exception("worker_crashed")
        (line,) = _lines(stream)
        assert "ValueError: boom" in line["exception"]

    def test_stdlib_logging_goes_through_the_same_chain(self) -> None:
        """Libraries log through stdlib logging: same JSON, same redaction."""
        stream = io.StringIO()
        configure_logging(OpsSettings(), secrets=[API_KEY], stream=stream)
        logging.getLogger("thirdparty.lib").warning("client sent %s", API_KEY)
        (line,) = _lines(stream)
        assert line["logger"] == "thirdparty.lib"
        assert API_KEY not in stream.getvalue()


class TestConsole:
    def test_console_renderer_on_a_tty(self) -> None:
        stream = FakeTTY()
        configure_logging(OpsSettings(), stream=stream)
        structlog.get_logger("test").info("record_sent", action="upsertContact")
        text = stream.getvalue()
        assert "record_sent" in text
        assert "upsertContact" in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text.splitlines()[0])

    def test_console_when_asked_without_a_tty_has_no_colour_codes(self) -> None:
        stream = io.StringIO()
        configure_logging(OpsSettings(log_format="console"), stream=stream)
        structlog.get_logger("test").info("record_sent", partition=1)
        text = stream.getvalue()
        assert "record_sent" in text
        assert "partition=1" in text
        assert "\x1b[" not in text


class TestRedaction:
    @pytest.mark.parametrize("log_format", ["json", "console"])
    def test_secrets_and_credential_shapes_never_reach_the_output(
        self, log_format: Literal["json", "console"]
    ) -> None:
        """Known keys anywhere (event, fields, nested, bytes, tracebacks) and credential shapes go."""
        stream = io.StringIO()
        configure_logging(OpsSettings(log_format=log_format), secrets=[API_KEY, WRITE_KEY], stream=stream)
        log = structlog.get_logger("test")
        with structlog.contextvars.bound_contextvars(event_id=f"id-{API_KEY}"):
            log.info(f"sending with {API_KEY}")
            log.info("request", headers={"x-api-key": "some-other-key-123", "accept": "application/json"})
            log.info("nested", detail=[{"body": f"key {WRITE_KEY} inside"}], raw=API_KEY.encode())
            log.info("shaped", message="Authorization: Basic dXNlcjpwYXNzd29yZA== failed")
            log.info("shaped2", message="api_key=zzz-unknown-secret-zzz")
            log.info("secret_object", key=Secret("hidden-value-xyz"))
            log.info("by_name", write_key="plain-write-key-777", password="hunter2hunter2")
            try:
                raise RuntimeError(f"401 for key {WRITE_KEY}")
            except RuntimeError:
                log.exception("failed")
        text = stream.getvalue()
        for leaked in (
            API_KEY,
            WRITE_KEY,
            "some-other-key-123",
            "dXNlcjpwYXNzd29yZA==",
            "zzz-unknown-secret-zzz",
            "hidden-value-xyz",
            "plain-write-key-777",
            "hunter2hunter2",
        ):
            assert leaked not in text, leaked
        assert "[REDACTED]" in text
        assert "application/json" in text  # harmless fields survive

    def test_capture_logs_sees_the_redacted_event_dict(self) -> None:
        """With structlog's capture_logs, the redaction processor still runs before capture."""
        configure_logging(OpsSettings(), secrets=[API_KEY], stream=io.StringIO())
        processors = structlog.get_config()["processors"]
        redactor = processors[-2]
        with structlog.testing.capture_logs(processors=[redactor]) as captured:
            structlog.get_logger("test").info("sent", detail=f"x-api-key: {API_KEY}")
        assert captured[0]["detail"] == "x-api-key: [REDACTED]"


WORDS = [
    "x-api-key",
    "Authorization",
    "api_key",
    "write-key",
    "password",
    "token",
    "Basic",
    "bearer",
    "monkey",
]


@given(
    st.lists(
        st.one_of(st.sampled_from([*WORDS, API_KEY, ": ", "=", " ", "dXNlcjpwYXNz"]), st.text(max_size=12)),
        max_size=8,
    ).map("".join)
)
def test_fast_path_never_changes_what_redaction_would_do(text: str) -> None:
    """Skipping the regexes for text without credential words is only an optimisation."""
    redactor = SecretRedactor([API_KEY])
    assert redactor._text(text) == redact(text, [API_KEY])
