"""The incident replay: the dashboard as it was at any point of an incident, stepped or played.

Read-only by construction: no binding here calls an action, and the story is read once into
memory. The cursor is not thread-safe, so every cursor call runs on one dedicated thread (a
single-thread executor owned by the screen); Textual thread workers in one exclusive group only
hand moves to it and post the resulting frame back. A move that arrives while another is being
folded waits in a FIFO queue: moves are never lost or reordered, and a burst of key repeats
costs one frame. Between moves the cursor is warmed so far jumps stay cheap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Static, TextArea
from textual.worker import get_current_worker

from oncall_tui.core.replay.cursor import Cursor
from oncall_tui.core.sanitize import clean, display_text
from oncall_tui.core.timeline.model import NAMED_JUMPS
from oncall_tui.tui.format import plain
from oncall_tui.tui.messages import ReplayFailed, ReplayFrameReady
from oncall_tui.tui.replay_loader import Move, ReplayFrame, ReplaySession, seek_clock
from oncall_tui.tui.services import DashboardServices, Starter, Stop
from oncall_tui.tui.widgets.incident_table import IncidentTable, incident_rows
from oncall_tui.tui.widgets.push_table import PushTable, push_rows
from oncall_tui.tui.widgets.session_table import SessionTable, session_label, session_rows
from oncall_tui.tui.widgets.timeline_strip import TimelineStrip

NARROW_BELOW = 120
SPEEDS = (1, 2, 5, 10, 30, 60)
"""Play speeds: at 1x the wait between two events is the time that passed between them."""
MAX_WAIT_S = 2.0
"""Longest real wait between two played events, whatever the gap: a quiet hour must not stall."""
MIN_WAIT_S = 0.1
"""Shortest wait, so that events written in the same second still go by one at a time."""
WARM_BUDGET = 2000
"""Rows folded ahead per idle slice: short enough that a key press waits little behind one."""


class JumpModal(ModalScreen[str | None]):
    """``g``: the time to go to, as ``HH:MM[:SS]`` (UTC, the incident's day) or ISO."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-jump")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to time (UTC)", classes="dialog-title")
            yield Input(placeholder="HH:MM, HH:MM:SS or 2026-11-23T03:05:00Z", id="jump-time")

    @on(Input.Submitted, "#jump-time")
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReplayScreen(Screen[None]):
    """One incident's story: the panes as of the cursor, the axis, and the event under it."""

    BINDINGS = [
        Binding("left", "step(-1)", "Back", id="replay-back", priority=True),
        Binding("right", "step(1)", "Step", id="replay-step", priority=True),
        Binding("shift+left", "step(-10)", "−10", id="replay-back-10", priority=True),
        Binding("shift+right", "step(10)", "+10", id="replay-step-10", priority=True),
        Binding(
            "left_square_bracket",
            "milestone(False)",
            "Prev mark",
            id="replay-prev-milestone",
            priority=True,
        ),
        Binding(
            "right_square_bracket",
            "milestone(True)",
            "Next mark",
            id="replay-next-milestone",
            priority=True,
        ),
        Binding("space", "play", "Play/pause", id="replay-play", priority=True),
        Binding("plus", "speed(1)", "Faster", id="replay-faster", priority=True),
        Binding("minus", "speed(-1)", "Slower", id="replay-slower", priority=True),
        Binding("g", "goto", "Go to", id="replay-goto", priority=True),
        *(
            Binding(
                str(number),
                f"jump({number - 1})",
                f"{name}",
                id=f"replay-jump-{number}",
                show=False,
                priority=True,
            )
            for number, name in enumerate(NAMED_JUMPS, start=1)
        ),
        Binding("escape", "back", "Back to dashboard", id="replay-close"),
    ]

    def __init__(self, services: DashboardServices, incident_id: str) -> None:
        super().__init__()
        self.services = services
        self.incident_id = incident_id
        self.frame: ReplayFrame | None = None
        self.playing = False
        self.speed = SPEEDS[0]
        self._session: ReplaySession | None = None
        self._moves: deque[Move] = deque()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay")
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="replay-header", markup=False)
        with Horizontal(id="replay-panes"):
            with Vertical(id="replay-incidents-pane", classes="pane"):
                yield IncidentTable(id="replay-incidents")
            with Vertical(id="replay-sessions-pane", classes="pane"):
                yield SessionTable(id="replay-sessions")
            with Vertical(id="replay-pushes-pane", classes="pane"):
                yield PushTable(id="replay-pushes")
        yield TimelineStrip(id="timeline")
        yield TextArea(
            "", id="replay-detail", read_only=True, soft_wrap=True, show_line_numbers=False
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replay-incidents-pane").border_title = "Incidents as of T"
        self.query_one("#replay-sessions-pane").border_title = "Affected sessions as of T"
        self.query_one("#replay-pushes-pane").border_title = "Pending pushes as of T"
        self.query_one("#replay-detail").border_title = "Event"
        self.query_one("#replay-header", Static).update(Text(f" {self.incident_id} loading…"))
        self._apply_width(self.size.width)
        self.query_one("#replay-detail").focus()
        self._open()

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW_BELOW, "narrow")

    def on_unmount(self) -> None:
        self._stop_timer()
        self._thread.submit(self._close_session)
        self._thread.shutdown(wait=False)

    # --- the replay thread --------------------------------------------------------------

    def _on_replay_thread(self, call: Callable[[], ReplayFrame | bool | None]) -> object:
        """Run ``call`` on the screen's one replay thread and wait for it (from a worker)."""
        return self._thread.submit(call).result()

    @work(thread=True, group="replay-open", exit_on_error=False)
    def _open(self) -> None:
        try:
            frame = self._on_replay_thread(self._load)
        except Exception as exc:  # a wrong id, an unreadable DB: say so and go back
            self.post_message(ReplayFailed(str(exc)))
            return
        assert isinstance(frame, ReplayFrame)
        self.post_message(ReplayFrameReady(frame))

    def _load(self) -> ReplayFrame:
        self._session = ReplaySession(self.services.loader, self.incident_id)
        self._session.close()  # the story is in memory: the replay holds no connection
        return self._session.frame()

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.end()
        self._session = None

    def _drain(self) -> ReplayFrame | None:
        """Apply every queued move, in order, and read one frame (replay thread only)."""
        session = self._session
        if session is None:
            return None
        moved = False
        while self._moves:
            self._moves.popleft()(session.cursor)
            moved = True
        return session.frame() if moved else None

    def _warm(self) -> bool:
        return self._session.warm(WARM_BUDGET) if self._session is not None else True

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def _drive(self) -> None:
        """Fold the queued moves, show the frame, then warm the cursor until told otherwise."""
        worker = get_current_worker()
        frame = self._on_replay_thread(self._drain)
        if isinstance(frame, ReplayFrame) and not worker.is_cancelled:
            self.post_message(ReplayFrameReady(frame))
        while not worker.is_cancelled and not self._moves:
            if self._on_replay_thread(self._warm):
                break

    def _move(self, move: Move) -> None:
        if self.frame is None:
            return  # still loading: nothing to move yet
        self._moves.append(move)
        self._drive()

    # --- painting -----------------------------------------------------------------------

    @on(ReplayFailed)
    def _failed(self, message: ReplayFailed) -> None:
        self.notify(
            clean(message.reason, 500), title="Cannot replay", severity="error", markup=False
        )
        self.dismiss()

    @on(ReplayFrameReady)
    def _show(self, message: ReplayFrameReady) -> None:
        frame = self.frame = message.frame
        palette = self.app.theme_variables
        self._paint_header()
        self.query_one(IncidentTable).sync(incident_rows(frame.incidents, {}, frame.at, palette))
        self.query_one(SessionTable).sync(session_rows(frame.sessions, frame.at, palette))
        labels = {row.session.id: session_label(row.session) for row in frame.sessions}
        self.query_one(PushTable).sync(push_rows(frame.pending, frame.at, palette, labels))
        self.query_one("#replay-pushes-pane").border_subtitle = f"{len(frame.pending)}"
        self.query_one("#replay-sessions-pane").border_subtitle = f"{len(frame.sessions)}"
        self.query_one(TimelineStrip).show(
            frame.start, frame.end, frame.marks, frame.index, frame.at
        )
        detail = self.query_one("#replay-detail", TextArea)
        if detail.text != frame.detail:
            detail.load_text(frame.detail)
        detail.border_title = plain(
            f"Event {frame.index + 1}: {display_text(frame.event_kind, 40)}", None
        )
        if self.playing:
            self._schedule_next()

    def _paint_header(self) -> None:
        frame = self.frame
        if frame is None:
            return
        mine = next((i for i in frame.incidents if i.id == frame.incident_id), None)
        text = Text(f" {frame.incident_id}", style="bold")
        text.append(f" as of {frame.at:%H:%M:%S} UTC · event {frame.index + 1}/{frame.total}")
        text.append(f" · {self.speed}x")
        text.append(" · ▶ playing" if self.playing else " · paused")
        if mine is not None:
            text.append(f" · {mine.state.value}")
        self.query_one("#replay-header", Static).update(text)

    # --- play ---------------------------------------------------------------------------

    def _schedule_next(self) -> None:
        """Wait the gap to the next event (scaled, capped), then step; stop at the end."""
        self._stop_timer()
        frame = self.frame
        if frame is None or frame.next_gap is None:
            self.playing = False
            self._paint_header()
            return
        wait = min(max(frame.next_gap / self.speed, MIN_WAIT_S), MAX_WAIT_S)
        self._timer = self.set_timer(wait, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.playing:
            self._move(lambda c: c.step(1))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # --- actions (none writes) ----------------------------------------------------------

    def action_step(self, count: int) -> None:
        self._move(lambda c: c.step(count))

    def action_milestone(self, forward: bool) -> None:
        def move(cursor: Cursor) -> None:
            cursor.next_milestone() if forward else cursor.previous_milestone()

        self._move(move)

    def action_jump(self, which: int) -> None:
        name = NAMED_JUMPS[which].value
        self._move(lambda c: c.jump(name))

    def action_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.frame is not None and self.frame.next_gap is None:
            self._move(lambda c: c.seek(0))  # at the end: play from the start
        elif self.playing:
            self._schedule_next()
        else:
            self._stop_timer()
        self._paint_header()

    def action_speed(self, change: int) -> None:
        index = SPEEDS.index(self.speed) + change
        self.speed = SPEEDS[min(max(index, 0), len(SPEEDS) - 1)]
        self._paint_header()

    def action_goto(self) -> None:
        frame = self.frame
        if frame is None:
            return

        def done(text: str | None) -> None:
            if not text:
                return
            try:
                when = seek_clock(text, frame.at)
            except ValueError:
                self.notify(
                    f"not a time: {display_text(text, 80)}", severity="warning", markup=False
                )
                return
            self._move(lambda c: c.seek_time(when))

        self.app.push_screen(JumpModal(), done)

    def action_back(self) -> None:
        self.dismiss()


def replay_starter(incident_id: str) -> Starter:
    """A background starter (see ``AppOptions.background``) that opens the replay on launch:
    starters run in the app's mount, so the replay lands on top of the main screen."""

    def start(app: App[None], services: DashboardServices) -> Stop:
        app.call_later(app.push_screen, ReplayScreen(services, incident_id))
        return lambda: None

    return start
