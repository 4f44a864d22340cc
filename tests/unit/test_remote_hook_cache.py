"""The remote hook's cache of the last context, and what it prints when the server is away."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from oncall_tui.agents.hook.remote import (
    CachedContext,
    NoTokenError,
    TokenFileTooOpenError,
    age_text,
    cache_file,
    load_context,
    offline_answer,
    read_token,
    save_context,
)

SAVED_AT = 1_800_000_000.0


@pytest.fixture(autouse=True)
def _own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ONCALL_TUI_TOKEN", raising=False)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (5, "less than a minute ago"),
        (12 * 60 + 30, "12 min ago"),
        (3 * 3600, "3 h ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_the_age_is_told_in_the_unit_a_reader_wants(seconds: float, said: str) -> None:
    assert age_text(seconds) == said


def test_the_cached_context_is_headed_by_its_age() -> None:
    cached = CachedContext("# Production context\n", SAVED_AT)

    shown = offline_answer(cached, SAVED_AT + 12 * 60)

    assert shown.context == (
        "oncall-tui: server unreachable; context from 12 min ago\n\n# Production context\n"
    )
    assert offline_answer(None, SAVED_AT).context == ""


def test_the_cache_is_private_and_kept_per_server_and_session() -> None:
    save_context("https://oncall.internal", "s-1", "one", SAVED_AT)
    save_context("https://oncall.internal/", "s-2", "two", SAVED_AT)

    path = cache_file("https://oncall.internal", "s-1")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_context("https://oncall.internal/", "s-1") == CachedContext("one", SAVED_AT)
    assert load_context("https://oncall.internal", "s-2") == CachedContext("two", SAVED_AT)
    assert load_context("https://elsewhere", "s-1") is None


def test_the_token_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_TUI_TOKEN", " from-env \n")
    assert read_token() == "from-env"


def test_a_token_file_must_be_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "config" / "oncall-tui" / "token"
    path.parent.mkdir(parents=True)
    with pytest.raises(NoTokenError):
        read_token()
    path.write_text("from-file\n")
    os.chmod(path, 0o640)
    with pytest.raises(TokenFileTooOpenError):
        read_token()
    os.chmod(path, 0o600)
    assert read_token() == "from-file"
