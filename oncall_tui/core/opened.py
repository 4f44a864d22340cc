"""The other time of an incident's opening, said where it differs from ours.

An incident opens when oncall-tui receives its first signal (:attr:`Incident.opened_at`); the
signal's own time (:attr:`Incident.signal_started_at`) is what its sender claims. Usually they
agree within seconds. When they do not (an alert that had been firing for days before it
reached us, a sender whose clock is off), the views that describe the opening say so, once, in
the same words everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SHOWN_APART = timedelta(minutes=1)
"""A first signal's own time this far from the receipt (or more) is worth showing."""

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def first_signal_note(opened_at: datetime, signal_started_at: datetime | None) -> str | None:
    """``first signal says 8 days earlier: 2026-11-24 05:40 UTC``, or None when the two times
    are within :data:`SHOWN_APART` of each other (or the signal's own time is unknown)."""
    if signal_started_at is None:
        return None
    apart = opened_at - signal_started_at
    if abs(apart) <= SHOWN_APART:
        return None
    direction = "earlier" if apart > timedelta(0) else "later"
    when = signal_started_at.astimezone(UTC)
    return f"first signal says {_span(abs(apart))} {direction}: {when:%Y-%m-%d %H:%M} UTC"


def _span(apart: timedelta) -> str:
    """The gap in its one largest whole unit: ``8 days``, ``1 hour``, ``5 minutes``."""
    seconds = int(apart.total_seconds())
    for unit, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"
