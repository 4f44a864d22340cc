"""The hook's records (:class:`~oncall_tui.core.frozen.Frozen`) behave as the frozen records the
code and its tests rely on: equal by value, hashable, readable, immutable, copied by value."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Final

import pytest

from oncall_tui.agents.hook.model import (
    NO_ACTION,
    NOTHING,
    Action,
    ActionKind,
    Event,
    HookAnswer,
    HookInput,
)
from oncall_tui.agents.repo import RepoInfo
from oncall_tui.core.frozen import Frozen


class Pair(Frozen):
    __slots__ = ("left", "right")

    def __init__(self, left: int, right: str = "") -> None:
        self.left: Final = left
        self.right: Final = right


class OtherPair(Frozen):
    __slots__ = ("left", "right")

    def __init__(self, left: int, right: str = "") -> None:
        self.left: Final = left
        self.right: Final = right


def test_records_are_equal_by_their_values_and_class() -> None:
    assert Pair(1, "a") == Pair(left=1, right="a")
    assert Pair(1) == Pair(1, "")
    assert Pair(1, "a") != Pair(1, "b")
    assert Pair(1, "a") != OtherPair(1, "a"), "same values, another record"
    assert Pair(1, "a") != (1, "a"), "not a tuple"
    assert len({Pair(1, "a"), Pair(1, "a"), Pair(2, "a")}) == 2


def test_records_name_their_fields() -> None:
    assert repr(Pair(1, "a")) == "Pair(left=1, right='a')"
    assert repr(HookAnswer(guard="ask")) == "HookAnswer(context='', guard='ask')"


def test_records_cannot_be_changed() -> None:
    answer = HookAnswer(context="news")
    with pytest.raises(AttributeError, match="immutable"):
        answer.context = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del answer.guard
    with pytest.raises(AttributeError):
        answer.extra = 1
    assert answer == HookAnswer(context="news")


def test_records_are_copied_and_pickled_by_value() -> None:
    hook = HookInput(
        agent="claude-code",
        event=Event.PRE_TOOL,
        session_id="s1",
        cwd="/work",
        action=Action(ActionKind.EDIT, ("a.py",)),
    )
    for copied in (copy.copy(hook), copy.deepcopy(hook), pickle.loads(pickle.dumps(hook))):
        assert copied == hook
        assert copied.action.paths == ("a.py",)
    info = RepoInfo(Path("/work"), None)
    assert pickle.loads(pickle.dumps(info)) == info


def test_the_hook_records_keep_their_defaults() -> None:
    hook = HookInput(agent="codex", event=Event.PROMPT, session_id="s1", cwd="/work")
    assert (hook.action, hook.native_event, hook.hears) == (NO_ACTION, "", True)
    assert Action(ActionKind.OTHER, (), "") == NO_ACTION
    assert not NO_ACTION.guarded and Action(ActionKind.SHELL, text="ls").guarded
    assert HookAnswer() == NOTHING and HookAnswer(context="x") != NOTHING
