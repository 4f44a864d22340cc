"""Which trailer of a commit says an agent wrote it, and which agent (standard library only).

Agents sign their commits with a trailer: Claude Code adds ``Co-Authored-By: Claude
<noreply@anthropic.com>``, Copilot's coding agent a ``Co-authored-by:`` naming Copilot, other
tools ``Generated-by:``. The patterns are configured (``[commits] agent_trailers``), matched
case-insensitively at the start of each trailer line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_TRAILER_CHARS = 200
"""A trailer line is kept as evidence, capped: it is text someone (or something) typed."""
_AGENT_NAMES = (
    ("claude", "claude-code"),
    ("copilot", "copilot"),
    ("codex", "codex"),
    ("cursor", "cursor"),
    ("gemini", "gemini"),
    ("aider", "aider"),
)
"""Words of a trailer that name an agent, and the ``AgentKind`` value each stands for."""


@dataclass(frozen=True)
class TrailerMatcher:
    """The configured agent trailer patterns, compiled once."""

    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, patterns: Sequence[str]) -> TrailerMatcher:
        return cls(tuple(re.compile(p, re.IGNORECASE) for p in patterns))

    def agent_trailer(self, trailers: Iterable[str]) -> str | None:
        """The first trailer line that marks the commit as an agent's, capped; else None."""
        for line in trailers:
            if any(pattern.match(line) for pattern in self.patterns):
                return line[:MAX_TRAILER_CHARS]
        return None


def agent_of_trailer(trailer: str) -> str:
    """The ``AgentKind`` value a trailer names (``other`` when it names none we know)."""
    lowered = trailer.lower()
    return next((kind for word, kind in _AGENT_NAMES if word in lowered), "other")
