"""Results of the screens' background work, posted back to the screen that asked for them.

Workers run on threads and must not touch widgets; each posts one of these to its own screen,
whose handler paints it on the UI thread. None bubbles: no one above the screen acts on them.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from oncall_tui.core.agents import AgentSession
from oncall_tui.core.health import PipelineHealth
from oncall_tui.core.note_review import ReviewItem
from oncall_tui.tui.loader import Snapshot, View
from oncall_tui.tui.replay_loader import ReplayFrame


class SnapshotLoaded(Message, bubble=False):
    """The main screen's panes as read for ``asked`` (the view when the read began)."""

    def __init__(self, snapshot: Snapshot, asked: View) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.asked = asked


class HealthRead(Message, bubble=False):
    """The pipeline's health as read on this tick: the header shows it."""

    def __init__(self, health: PipelineHealth) -> None:
        super().__init__()
        self.health = health


class PreviewLoaded(Message, bubble=False):
    """The document a push's session will read once it is approved ("" for none)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class AudienceLoaded(Message, bubble=False):
    """Who a broadcast about ``incident_id`` would reach: the dialog opens on it."""

    def __init__(self, incident_id: str, audience: list[AgentSession]) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.audience = audience


class ActionDone(Message, bubble=False):
    """An engineer action was journaled; ``success`` is the toast that says so."""

    def __init__(self, success: str) -> None:
        super().__init__()
        self.success = success


class ActionFailed(Message, bubble=False):
    """An engineer action was refused or failed; ``reason`` is already sanitised."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class DetailLoaded(Message, bubble=False):
    """A detail screen's body, rendered off the UI thread (or why there is none)."""

    def __init__(self, body: Text) -> None:
        super().__init__()
        self.body = body


class NotesLoaded(Message, bubble=False):
    """The notes in review order, for the notes screen."""

    def __init__(self, items: list[ReviewItem]) -> None:
        super().__init__()
        self.items = items


class ReplayFrameReady(Message, bubble=False):
    """The replay as of the cursor after the last queued moves."""

    def __init__(self, frame: ReplayFrame) -> None:
        super().__init__()
        self.frame = frame


class ReplayFailed(Message, bubble=False):
    """The replay could not open (a wrong id, an unreadable DB)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
