"""The order an engineer reviews notes in, and what an agent's proposal would change.

Pending agent notes come first (they wait on a decision), then notes that may no longer be
true, then the rest. A proposal is shown as a line diff against the note it would replace,
so the engineer reads what changes rather than two long texts side by side.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from oncall_tui.core.agents import Note


class ReviewGroup(StrEnum):
    """Where a note stands in the review, in the order the screen lists them."""

    PENDING = "pending"
    """Written by an agent, not yet accepted: other agents do not see it."""
    STALE = "stale"
    """Current, but its files are gone or its review date passed."""
    CURRENT = "current"


GROUP_ORDER = (ReviewGroup.PENDING, ReviewGroup.STALE, ReviewGroup.CURRENT)


@dataclass(frozen=True)
class ReviewItem:
    """One note as the review screen lists it."""

    note: Note
    group: ReviewGroup
    stale_reasons: tuple[str, ...] = ()
    replaces: Note | None = None
    """The note a pending proposal would supersede; None for a new note."""


def review_items(notes: Iterable[Note], stale: Mapping[str, list[str]]) -> list[ReviewItem]:
    """Pending first, then stale, then current; oldest first within each group.

    ``notes`` includes superseded ones (a proposal's ``supersedes`` may name one already
    replaced). Superseded, rejected and retired notes are history and are left out.
    """
    every = list(notes)
    by_id = {n.id: n for n in every}
    # Journals that superseded the old note as soon as the proposal was made say it this way.
    replaced_by = {n.superseded_by: n for n in every if n.superseded_by is not None}
    items: list[ReviewItem] = []
    for note in every:
        if note.superseded_by is not None:
            continue
        if note.is_pending:
            replaces = by_id.get(note.supersedes or "") or replaced_by.get(note.id)
            items.append(ReviewItem(note, ReviewGroup.PENDING, replaces=replaces))
        elif note.is_current:
            reasons = tuple(stale.get(note.id, ()))
            group = ReviewGroup.STALE if reasons else ReviewGroup.CURRENT
            items.append(ReviewItem(note, group, reasons))
    rank = {group: index for index, group in enumerate(GROUP_ORDER)}
    return sorted(items, key=lambda item: (rank[item.group], item.note.number))


def proposal_diff(old: Note, new: Note) -> list[str]:
    """The proposal's text and rationale against the note it replaces, as unified diff lines
    (without the file header: the screen names both notes itself)."""
    before = [*old.text.splitlines(), *_rationale_lines(old)]
    after = [*new.text.splitlines(), *_rationale_lines(new)]
    lines = difflib.unified_diff(before, after, lineterm="", n=2)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def _rationale_lines(note: Note) -> list[str]:
    return [f"why: {line}" for line in note.rationale.splitlines()]
