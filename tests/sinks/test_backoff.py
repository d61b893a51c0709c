"""Backoff stays within its bounds; Retry-After is read in both of its forms."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.sinks.backoff import MAX_RETRY_AFTER_S, backoff_delay, parse_retry_after

NOW = 1_800_000_000.0


@given(
    attempt=st.integers(min_value=1, max_value=60),
    base=st.floats(min_value=0.001, max_value=5),
    cap=st.floats(min_value=0.001, max_value=60),
    rand=st.floats(min_value=0, max_value=1),
)
def test_backoff_between_half_and_whole_ceiling(attempt: int, base: float, cap: float, rand: float) -> None:
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, base_s=base, max_s=cap, rand=lambda: rand)
    assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9


def test_backoff_grows_exponentially_until_the_cap() -> None:
    delays = [backoff_delay(n, base_s=0.2, max_s=5.0, rand=lambda: 1.0) for n in range(1, 8)]
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])


def test_backoff_is_jittered() -> None:
    low = backoff_delay(3, base_s=1.0, max_s=60, rand=lambda: 0.0)
    high = backoff_delay(3, base_s=1.0, max_s=60, rand=lambda: 1.0)
    assert (low, high) == (2.0, 4.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("7", 7.0, id="integer-seconds"),
        pytest.param(" 1.5 ", 1.5, id="fractional-seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-3", 0.0, id="negative-is-now"),
        pytest.param("999999", MAX_RETRY_AFTER_S, id="capped"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("nan", None, id="nan"),
    ],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    when = datetime.fromtimestamp(NOW + 42, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == pytest.approx(42.0)


def test_retry_after_http_date_in_the_past_means_now() -> None:
    when = datetime.fromtimestamp(NOW - 600, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == 0.0


def test_retry_after_obsolete_date_forms() -> None:
    # RFC 850 and asctime forms are still legal HTTP-dates.
    assert parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111777.0 - 10) == pytest.approx(10.0)
    assert parse_retry_after("Sun Nov  6 08:49:37 1994", 784111777.0 - 5) == pytest.approx(5.0)
