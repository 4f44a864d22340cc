"""The store's one text form of a time, for any aware time: UTC, four-digit year, microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.core.clock import from_iso, iso

_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@example(datetime(2026, 12, 8, 1, 2, 3, tzinfo=UTC))  # no microseconds: still six digits
@example(datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC))  # a year of three digits: padded
@example(datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))  # the day before
@given(st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31), timezones=_OFFSETS))
def test_a_time_is_spelled_in_utc_as_isoformat_spells_it(when: datetime) -> None:
    in_utc = when.astimezone(UTC).replace(tzinfo=None)
    assert iso(when) == in_utc.isoformat(timespec="microseconds") + "Z"
    assert from_iso(iso(when)) == when
