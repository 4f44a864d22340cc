"""The export loop's render cache: a session whose context did not change is not rendered again,
and the files are, after every change, exactly what a sync without the cache would write.

The world is :func:`tests.integration.test_export.make_world`'s (real actions, real files); a
second session edits a service the incident does not concern. After each change, the cached
sync is checked by an uncached ``check_only`` sync of the same directory: it renders every
session afresh and lists any file that differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions.sessions import end, heartbeat, register
from oncall_tui.agents.export.sync import RenderCache, sync
from oncall_tui.core.context import render
from tests.integration.test_export import REPO, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    (tmp_path / "payments-api" / "services").mkdir(parents=True)
    built = make_world(tmp_path)
    register(built.store, built.rules, "s2", repo=REPO, paths=["docs/README.md"])
    yield built
    built.store.close()


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sessions whose CONTEXT.md was rendered, in order (the renderer itself runs)."""
    names: list[str] = []
    original: Callable[..., str] = render.render_markdown

    def counting(ctx: object, *args: object, **kwargs: object) -> str:
        names.append(ctx.session.id)  # type: ignore[attr-defined]
        return original(ctx, *args, **kwargs)

    monkeypatch.setattr(render, "render_markdown", counting)
    return names


def synced(world: World, cache: RenderCache, rendered: list[str]) -> list[str]:
    """The sessions rendered by one cached sync, once it is shown equal to an uncached one."""
    rendered.clear()
    report = sync(world.store, world.settings, cache=cache)
    assert not report.failed
    renders = sorted(rendered)
    check = sync(world.store, world.settings, check_only=True)
    assert check.differing == [], "the cached sync wrote what a fresh one would"
    return renders


def test_only_the_sessions_whose_context_changed_are_rendered(
    world: World, rendered: list[str]
) -> None:
    cache = RenderCache()
    assert synced(world, cache, rendered) == ["s1", "s2"], "the first sync renders all"
    # It recorded s1's push as delivered through the file: s1's context changed (its bytes did
    # not, as the uncached check shows).
    assert synced(world, cache, rendered) == ["s1"]
    assert synced(world, cache, rendered) == [], "nothing changed, nothing rendered"

    push = world.live_push()
    push_actions.edit(world.store, push.id, "alice", "Keep retry.py as it is: 2 s is the breaker.")
    pending_ids = world.store.conn.execute("SELECT id FROM pushes WHERE state = 'pending'")
    for (pending,) in list(pending_ids):
        push_actions.approve(world.store, pending, "alice", world.rules)
    assert synced(world, cache, rendered) == ["s1"], "the edited guidance is s1's alone"
    assert "2 s is the breaker" in world.markdown()

    heartbeat(world.store, world.rules, "s2", paths=["services/processor/retry.py"])
    assert "s2" in synced(world, cache, rendered), "s2 now edits the degraded service"
    assert "INC-1" in (world.out / "sessions" / "s2" / "CONTEXT.md").read_text()

    world.resolve()
    assert synced(world, cache, rendered) == ["s1", "s2"], "the incident left both files"
    assert "INC-1" not in world.markdown()


def test_a_session_that_ends_leaves_the_cache(world: World, rendered: list[str]) -> None:
    cache = RenderCache()
    synced(world, cache, rendered)
    synced(world, cache, rendered)  # s1's delivery through the file, recorded by the first
    end(world.store, world.rules, "s2")
    assert synced(world, cache, rendered) == []
    assert not (world.out / "sessions" / "s2").exists()
    register(world.store, world.rules, "s2", repo=REPO, paths=["docs/README.md"])
    assert synced(world, cache, rendered) == ["s2"], "back again: rendered afresh"
