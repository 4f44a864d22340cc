"""Journal bodies are records: made, compared, hashed, shown and copied as the frozen slotted
dataclasses they replace, and as immutable."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError

import pytest

from oncall_tui.core.journal import DeliveryRejected, PushApproved, SessionEnded
from oncall_tui.core.journal_body import JournalBody, record


def test_fields_are_set_by_position_or_name_with_their_defaults() -> None:
    by_position = PushApproved("P-1", "user:ana")
    by_name = PushApproved(by="user:ana", push_id="P-1", rule="stand-down")
    assert (by_position.push_id, by_position.by, by_position.rule) == ("P-1", "user:ana", None)
    assert by_name.rule == "stand-down"
    assert PushApproved._FIELDS == ("push_id", "by", "rule")
    assert DeliveryRejected._DEFAULTS == {"http_status": None}


def test_wrong_arguments_are_refused_as_a_function_refuses_them() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'session_id'"):
        SessionEnded()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        SessionEnded("s-1", "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'sesion_id'"):
        SessionEnded(sesion_id="s-1")  # type: ignore[call-arg]


def test_equal_by_class_and_fields_and_hashed_alike() -> None:
    approved = PushApproved("P-1", "user:ana")
    assert approved == PushApproved(push_id="P-1", by="user:ana")
    assert hash(approved) == hash(PushApproved("P-1", "user:ana"))
    assert approved != PushApproved("P-1", "user:bo")
    assert SessionEnded("P-1") != PushApproved("P-1", "user:ana")
    assert len({approved, PushApproved("P-1", "user:ana"), SessionEnded("s-1")}) == 2


def test_shown_with_every_field() -> None:
    shown = repr(DeliveryRejected(7, "grafana", "bad signature"))
    assert shown == (
        "DeliveryRejected(delivery_id=7, source='grafana', reason='bad signature', "
        "http_status=None)"
    )


def test_fields_cannot_be_assigned_or_deleted_or_added() -> None:
    approved = PushApproved("P-1", "user:ana")
    with pytest.raises(FrozenInstanceError):
        approved.by = "user:bo"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del approved.by
    with pytest.raises(FrozenInstanceError):
        approved.extra = 1
    assert not hasattr(approved, "__dict__")
    assert approved.by == "user:ana"


def test_copies_and_pickles_keep_every_field() -> None:
    rejected = DeliveryRejected(None, "github", "too large", http_status=413)
    assert copy.copy(rejected) == rejected
    assert copy.deepcopy(rejected) == rejected
    assert pickle.loads(pickle.dumps(rejected)) == rejected


def test_a_field_without_a_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="field 'reason' without a default follows one"):

        @record
        class Misordered(JournalBody):
            by: str = ""
            reason: str  # type: ignore[misc]


def test_a_mutable_default_is_refused() -> None:
    # One list would be shared by every body made without the field.
    with pytest.raises(ValueError, match="mutable default for field 'paths'"):

        @record
        class Shared(JournalBody):
            paths: list[str] = []  # noqa: RUF012 (the mistake under test)


def test_match_args_follow_the_declaration_order() -> None:
    match PushApproved("P-2", "user:ana", "stand-down"):
        case PushApproved(push_id, by, rule):
            assert (push_id, by, rule) == ("P-2", "user:ana", "stand-down")
        case _:
            pytest.fail("a record matches its own class pattern")
