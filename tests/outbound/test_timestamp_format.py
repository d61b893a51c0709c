"""`format_timestamp` (table-built text) equals the plain format-spec rendering for any datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from processor.outbound.identity import format_timestamp


def _reference(moment: datetime) -> str:
    """The original rendering: format specs on the UTC fields."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


offsets = (
    st.none()
    | st.just(UTC)
    | st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
)


@given(moment=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)), offset=offsets)
def test_same_text_as_format_specs(moment, offset):
    moment = moment.replace(tzinfo=offset)
    assert format_timestamp(moment) == _reference(moment)


def test_small_years_are_zero_padded():
    assert format_timestamp(datetime(5, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)) == "0005-01-02T03:04:05.006Z"
    assert format_timestamp(datetime(999, 12, 31, 23, 59, 59, 999999)) == "0999-12-31T23:59:59.999Z"
