"""The hook's write handed to this DB's running ``serve`` (:mod:`oncall_tui.agents.local_api`).

Registering a session, a heartbeat, journaling a first sight of a file or a commit: each needs
the store and the actions, which a fresh hook process takes several times an agent's patience to
import, and which ``serve`` has loaded. The decision is the one the hook would make itself
(:func:`~oncall_tui.agents.hook.core.answer`, run by ``serve`` on the facts read here), so the
answer is the same; when ``serve`` cannot be asked or does not answer in time, the hook makes
it itself.
"""

from __future__ import annotations

from urllib.parse import quote

from oncall_tui.agents.hook.event_wire import decided_answer, event_body
from oncall_tui.agents.hook.model import HookAnswer
from oncall_tui.agents.http_post import ServerUnreachableError
from oncall_tui.agents.local_api import LocalApi, post_json

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from oncall_tui.agents.hook.model import HookInput
    from oncall_tui.agents.hook.repo_facts import RepoFacts


def ask_serve(
    api: LocalApi, hook: HookInput, facts: RepoFacts, *, registers: bool
) -> HookAnswer | None:
    """``serve``'s answer to ``hook``, or None when it cannot be reached in time (stopped, or
    restarting: its lease runs out within seconds); raises when it answers wrongly, which the
    caller logs, since that means something is wrong with it. ``registers``: the session is new
    to the DB, so serve needs the repository's name."""
    path = f"/sessions/{quote(hook.session_id, safe='')}/events"
    try:
        answer = post_json(api, path, event_body(hook, facts, slug=registers))
    except ServerUnreachableError:
        return None
    return decided_answer(answer)
