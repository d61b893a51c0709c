"""Outcome routing: every Outcome's next step, and the SPEC §6 headers on retry and DLQ records."""

from __future__ import annotations

from processor.config.settings import RetrySettings
from processor.errors import ErrorClass
from processor.outcomes import AuthFailed, Rejected, Retry, Sent, Skipped
from processor.records import SourceRecord
from processor.runtime.retry import RetryPlan
from processor.runtime.routing import AwaitAuth, Done, Lineage, Produce, route

PLAN = RetryPlan.from_settings(RetrySettings())
NOW = 1_700_000_000_000
SOURCE = SourceRecord("segment-inbound", 2, 41, b"user-1", b"{}", {"trace": b"abc"}, 1_699_999_999_000)


def decide(outcome, record: SourceRecord = SOURCE, action: str | None = "upsertContact", secrets=()):
    return route(
        outcome,
        lineage=Lineage.of(record),
        source_topic="segment-inbound",
        direction="inbound",
        action=action,
        plan=PLAN,
        now_ms=NOW,
        secrets=secrets,
    )


def headers_of(decision: Produce) -> dict[str, str]:
    return {k: v.decode() for k, v in decision.headers}


def test_sent_and_skipped_are_done() -> None:
    assert decide(Sent()) == Done(Sent())
    assert decide(Skipped("filtered")) == Done(Skipped("filtered"))


def test_auth_failed_awaits_auth_and_is_never_produced() -> None:
    """401/403: no retry record, no DLQ record."""
    assert decide(AuthFailed(401, "bad key")) == AwaitAuth(AuthFailed(401, "bad key"))


def test_first_retry_goes_to_first_tier_with_headers() -> None:
    """A retryable failure of a source record → tier 1, due after the tier delay, SPEC headers."""
    decision = decide(Retry(ErrorClass.HTTP_5XX, "503 upstream", status=503))
    assert isinstance(decision, Produce)
    assert decision.topic == "segment-inbound.retry.5s"
    assert decision.kind == "retry"
    headers = headers_of(decision)
    assert headers == {
        "trace": "abc",
        "cb-original-topic": "segment-inbound",
        "cb-original-partition": "2",
        "cb-original-offset": "41",
        "cb-original-timestamp": "1699999999000",
        "cb-attempt": "1",
        "cb-first-failure-at": str(NOW),
        "cb-due-at": str(NOW + 5000),
        "cb-error-class": "http_5xx",
        "cb-error-status": "503",
        "cb-error-message": "503 upstream",
        "cb-direction": "inbound",
        "cb-action": "upsertContact",
    }


def retry_record(attempt: int, first_failure: int = NOW - 60_000) -> SourceRecord:
    headers = {
        "cb-original-topic": b"segment-inbound",
        "cb-original-partition": b"2",
        "cb-original-offset": b"41",
        "cb-original-timestamp": b"1699999999000",
        "cb-attempt": str(attempt).encode(),
        "cb-first-failure-at": str(first_failure).encode(),
        "cb-due-at": b"123",
        "cb-error-class": b"http_5xx",
        "cb-action": b"addContactToList",
        "cb-replayed": b"1",
        "trace": b"abc",
    }
    return SourceRecord("segment-inbound.retry.5s", 0, 7, b"user-1", b"{}", headers, NOW - 1000)


def test_retry_record_keeps_lineage_and_moves_a_tier() -> None:
    """A record read back from tier 1 that fails again goes to tier 2; originals, first failure and
    the action are kept; old error headers are replaced, not duplicated."""
    lineage = Lineage.of(retry_record(1))
    assert lineage.attempt == 2
    assert lineage.action == "addContactToList"
    decision = decide(Retry(ErrorClass.TIMEOUT, "timed out"), retry_record(1), action="addContactToList")
    assert isinstance(decision, Produce)
    assert decision.topic == "segment-inbound.retry.1m"
    names = [k for k, _ in decision.headers]
    assert len(names) == len(set(names))
    headers = headers_of(decision)
    assert headers["cb-attempt"] == "2"
    assert headers["cb-original-topic"] == "segment-inbound"
    assert headers["cb-original-offset"] == "41"
    assert headers["cb-first-failure-at"] == str(NOW - 60_000)
    assert headers["cb-error-class"] == "timeout"
    assert "cb-error-status" not in headers
    assert headers["cb-replayed"] == "1"
    assert headers["cb-due-at"] == str(NOW + 60_000)


def test_retry_after_longer_than_the_tier_delays_the_due_time() -> None:
    decision = decide(Retry(ErrorClass.HTTP_429, "slow down", status=429, retry_after=30.0))
    assert isinstance(decision, Produce)
    assert headers_of(decision)["cb-due-at"] == str(NOW + 30_000)


def test_attempts_exhausted_go_to_dlq() -> None:
    """The eighth failed attempt dead-letters with retries_exhausted and the last error in the message."""
    decision = decide(Retry(ErrorClass.HTTP_5XX, "502", status=502), retry_record(7))
    assert isinstance(decision, Produce)
    assert decision.topic == "segment-inbound.dlq"
    assert decision.kind == "dlq"
    headers = headers_of(decision)
    assert headers["cb-error-class"] == "retries_exhausted"
    assert "http_5xx" in headers["cb-error-message"]
    assert headers["cb-attempt"] == "8"
    assert "cb-due-at" not in headers


def test_rejected_goes_to_dlq_with_redacted_message() -> None:
    """A permanent failure dead-letters at once; secrets never reach the headers."""
    outcome = Rejected(ErrorClass.HTTP_4XX, "400: key sekrit-123 x-api-key: sekrit-123", status=400)
    decision = decide(outcome, secrets=("sekrit-123",))
    assert isinstance(decision, Produce)
    assert decision.topic == "segment-inbound.dlq"
    headers = headers_of(decision)
    assert headers["cb-error-class"] == "http_4xx"
    assert headers["cb-error-status"] == "400"
    assert "sekrit-123" not in headers["cb-error-message"]
    assert headers["cb-action"] == "upsertContact"


def test_long_error_message_is_truncated() -> None:
    decision = decide(Rejected(ErrorClass.VALIDATION, "x" * 5000))
    assert isinstance(decision, Produce)
    assert len(headers_of(decision)["cb-error-message"]) <= 1000


def test_outbound_record_without_action() -> None:
    decision = decide(Rejected(ErrorClass.MESSAGE_TOO_LARGE, "too big"), action=None)
    assert isinstance(decision, Produce)
    assert "cb-action" not in headers_of(decision)


def test_source_record_with_stray_bookkeeping_starts_afresh() -> None:
    """cb-* headers on a record of the source topic itself do not shrink its attempt budget."""
    stray = retry_record(7)
    on_source = SourceRecord("segment-inbound", 0, 3, b"k", b"{}", stray.headers, NOW)
    lineage = Lineage.of(on_source, "segment-inbound")
    assert lineage.attempt == 1
    assert lineage.action is None
    assert lineage.offset == 3
    assert dict(lineage.passthrough) == {"cb-replayed": b"1", "trace": b"abc"}
