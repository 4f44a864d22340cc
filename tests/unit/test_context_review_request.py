"""A note flagged by a later commit: the context asks the agent to review it, in both forms."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.core.agents import changed_by_commit
from oncall_tui.core.context.render import REVIEW_REQUEST, render_json, render_markdown
from tests.unit.test_render import KEY, NOTE, context, fenced

SHA = "0123456789abcdef0123456789abcdef01234567"
EDITED = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 3, 5, tzinfo=UTC)


def commit_reason() -> str:
    later = [changed_by_commit(SHA, EDITED, "services/payments/client.py")]
    (reason,) = NOTE.stale_reasons(NOW, [], later)
    return reason


def test_a_note_changed_by_a_commit_carries_the_review_request() -> None:
    reason = commit_reason()
    assert (
        reason == "changed by commit 0123456789ab on 2026-11-22 touched services/payments/client.py"
    )
    md = render_markdown(context(), KEY, stale_notes={NOTE.id: [reason]})
    _, outside, _ = fenced(md)
    assert f"  Possibly out of date: {reason}." in outside
    assert f"  {REVIEW_REQUEST}" in outside, "outside the fence: it is our text, not the sender's"
    assert "propose_update" in REVIEW_REQUEST

    document = render_json(context(), KEY, stale_notes={NOTE.id: [reason]})
    (entry,) = document.notes
    assert entry.id == NOTE.id and entry.stale and entry.stale_reasons == [reason]


def test_other_staleness_asks_for_no_review() -> None:
    md = render_markdown(context(), KEY, stale_notes={NOTE.id: ["review was due 2026-11-01"]})
    assert "Possibly out of date: review was due 2026-11-01." in md
    assert REVIEW_REQUEST not in md
    assert REVIEW_REQUEST not in render_markdown(context(), KEY)
