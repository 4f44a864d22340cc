"""What an engineer is told when someone else decided a push first.

Two engineers on one incident (two dashboards, or a dashboard and the CLI) can act on the same
push at once. The write lock lets exactly one decision through; the other must learn who won
and when, in words, rather than a state name: "P-3 was already approved by alice 2s ago".
"""

from __future__ import annotations

from datetime import datetime

from oncall_tui.core.agents import Push, PushState
from oncall_tui.core.clock import age

_VERB = {
    PushState.APPROVED: "approved",
    PushState.DELIVERED: "approved",
    PushState.ACKNOWLEDGED: "approved",
    PushState.REJECTED: "rejected",
    PushState.EXPIRED: "expired",
}


def already_decided(push: Push, now: datetime, successor: Push | None = None) -> str:
    """Why ``push`` can no longer be decided: who decided it, how long ago, what replaced it.

    ``successor``: the version that superseded it, when there is one (its author and time
    say who edited it).
    """
    if push.state is PushState.SUPERSEDED:
        replaced = push.superseded_by or (successor.id if successor else None)
        if successor is not None and successor.edited_by:
            when = age(successor.proposed_at, now)
            return (
                f"{push.id} was already edited by {successor.edited_by} {when} ago (now {replaced})"
            )
        return f"{push.id} was already superseded" + (f" by {replaced}" if replaced else "")
    verb = _VERB.get(push.state, push.state.value)
    when = f" {age(push.decided_at, now)} ago" if push.decided_at else ""
    if push.auto_approved_by is not None:
        return f"{push.id} was already auto-approved (rule {push.auto_approved_by}){when}"
    if push.state is PushState.EXPIRED or push.decided_by is None:
        return f"{push.id} was already {verb}{when}"
    return f"{push.id} was already {verb} by {push.decided_by}{when}"
