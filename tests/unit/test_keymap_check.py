"""``[ui.keymap]`` against the dashboard's own bindings."""

from __future__ import annotations

from oncall_tui.cli.keymap_check import keymap_problems


def test_a_remap_onto_a_free_key_is_fine() -> None:
    assert keymap_problems({"approve": "y", "quit": "ctrl+q"}) == []


def test_swapping_two_keys_is_fine() -> None:
    assert keymap_problems({"approve": "r", "reject": "a"}) == []


def test_a_remap_onto_another_actions_key_names_both() -> None:
    assert keymap_problems({"approve": "r"}) == ["'r' is bound to both 'approve' and 'reject'"]


def test_an_app_wide_key_clashes_on_every_screen_once() -> None:
    assert keymap_problems({"approve": "q"}) == ["'q' is bound to both 'quit' and 'approve'"]


def test_a_misspelt_action_is_named_with_the_closest() -> None:
    assert keymap_problems({"aprove": "y"}) == ["unknown action 'aprove' (did you mean 'approve'?)"]
