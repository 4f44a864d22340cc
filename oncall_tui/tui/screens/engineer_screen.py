"""What every screen where the engineer decides shares: running an action off the UI thread,
the toast that says how it went, and the reject dialog that insists on a reason."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.screen import Screen

from oncall_tui.core.sanitize import clean
from oncall_tui.tui.engineer_actions import EngineerAction
from oncall_tui.tui.messages import ActionDone, ActionFailed
from oncall_tui.tui.screens.reject_modal import Rejection, RejectModal
from oncall_tui.tui.services import DashboardServices


class EngineerScreen(Screen[None]):
    """A screen whose keys decide (approve, reject, accept...): subclasses say what to reload."""

    services: DashboardServices

    def after_action(self) -> None:
        """Show the state the action left (each screen reloads what it shows)."""
        raise NotImplementedError

    @work(thread=True, group="actions", exit_on_error=False)
    def perform(self, action: EngineerAction, success: str) -> None:
        """Run one engineer action on its own connection; the outcome comes back as a toast."""
        store = self.services.loader.open()
        try:
            action(store)
        except Exception as exc:  # every failure is shown, none is lost silently
            # Messages may quote what a sender named (a service, a title): sanitised first.
            self.post_message(ActionFailed(clean(str(exc), 500)))
            return
        finally:
            store.close()
        self.post_message(ActionDone(success))

    def reject_with_reason(
        self, item_id: str, rejecting: Callable[[str], EngineerAction], what: str
    ) -> None:
        """Ask why (a reason is required), then run the rejection it makes."""

        def done(rejection: Rejection | None) -> None:
            if rejection is not None:
                self.perform(rejecting(rejection.reason), what)

        self.app.push_screen(RejectModal(item_id), done)

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        self.notify(message.success, markup=False)
        self.after_action()

    @on(ActionFailed)
    def _action_failed(self, message: ActionFailed) -> None:
        self.notify(message.reason, title="Not done", severity="error", markup=False)
