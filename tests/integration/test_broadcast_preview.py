"""The preview of a broadcast names the session it shows the way people know it, not by id."""

from __future__ import annotations

import json
from pathlib import Path

from oncall_tui.core.clock import SystemClock
from oncall_tui.tui.loader import Loader
from tests.integration.timeline_story import play_story


def test_a_broadcast_preview_names_its_example_session_by_repo_and_branch(tmp_path: Path) -> None:
    settings, _ = play_story(tmp_path)
    loader = Loader(settings.db, SystemClock())
    store = loader.open()
    try:
        (row,) = store.conn.execute("SELECT id, data FROM pushes WHERE kind = 'broadcast'")
    finally:
        store.close()
    shown = json.loads(row[1])["recipients"][0]

    first = loader.preview(row[0]).splitlines()[0]

    assert first == "(broadcast to 5 sessions; shown as aider on acme/search@ranking will read it)"
    assert shown not in first, "the session id is for the detail screen"
