"""The agent's checkout as a hook decision needs it: read where the agent runs (by the local
hook, :func:`~oncall_tui.agents.hook.core.local_facts`), or sent from the agent's own machine
with the event (:mod:`~oncall_tui.agents.hook.event_wire`)."""

from __future__ import annotations

from oncall_tui.core.frozen import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final


class RepoFacts(Frozen):
    """The checkout's facts: its branch, the tool call's files, its name, a commit's checkout."""

    __slots__ = ("branch", "written", "slug", "commit_dir")

    def __init__(
        self,
        branch: str | None,
        written: list[str],
        slug: Callable[[], str | None],
        commit_dir: str | None = None,
    ) -> None:
        self.branch: Final = branch
        self.written: Final = written
        """The tool call's files relative to the repository (or the cwd outside one): those it
        writes before a tool runs, those it wrote after a writing tool ran, else none."""
        self.slug: Final = slug
        """``owner/name``: one more git call here, so asked only when a session is registered."""
        self.commit_dir: Final = commit_dir
        """The checkout on this machine a finished shell call committed in (its HEAD is read)."""
