"""The origin's URL read from the checkout's config says what git says
(:func:`~oncall_tui.agents.repo.read_origin_url`).

A session start and a commit name the repository by its origin remote; the hook reads
``.git/config`` rather than starting git. Configs are written by git itself where it can write
them, and by hand in the other spellings git's syntax allows
(https://git-scm.com/docs/git-config#_syntax: case-insensitive section and key names, the
deprecated ``[section.subsection]`` form, ``#``/``;`` comments, quoted values, includes). Each
is read both ways; where the file alone cannot be trusted the reader declines and git answers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oncall_tui.agents.repo import read_origin_url, repo_slug
from tests.unit.test_hook_repo_files import checkout, git

__all__ = ["checkout"]  # the fixture, shared


def asked_of_git(root: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def read_agrees(root: Path) -> str | None:
    """The URL read from the file, which git confirms; None when the reader declined."""
    read = read_origin_url(root)
    if read is not None:
        assert read == asked_of_git(root)
    return read


def with_config(root: Path, text: str) -> Path:
    config = root / ".git" / "config"
    config.write_text(config.read_text() + text)
    return root


def test_an_origin_added_by_git(checkout: Path) -> None:
    git(checkout, "remote", "add", "origin", "git@github.com:acme-payments/payments-api.git")
    assert read_agrees(checkout) == "git@github.com:acme-payments/payments-api.git"
    assert repo_slug(checkout) == "acme-payments/payments-api"


def test_the_last_of_several_urls_as_git_config_get_says(checkout: Path) -> None:
    git(checkout, "remote", "add", "origin", "https://github.com/acme/one.git")
    git(checkout, "config", "--add", "remote.origin.url", "https://github.com/acme/two.git")
    assert read_agrees(checkout) == "https://github.com/acme/two.git"


def test_other_remotes_beside_it(checkout: Path) -> None:
    git(checkout, "remote", "add", "upstream", "https://github.com/upstream/payments-api.git")
    git(checkout, "remote", "add", "origin", "https://github.com/acme/payments-api.git")
    git(checkout, "remote", "add", "fork", "https://github.com/someone/payments-api.git")
    assert read_agrees(checkout) == "https://github.com/acme/payments-api.git"


@pytest.mark.parametrize(
    "text",
    [
        '[Remote "origin"]\n\tURL = https://github.com/acme/payments-api.git\n',
        "[remote.origin]\n\turl=https://github.com/acme/payments-api.git\n",
        "[REMOTE.Origin]\n\turl = https://github.com/acme/payments-api.git\n",
        '[remote "origin"] # the one we push to\n'
        "\turl = https://github.com/acme/payments-api.git ; the mirror is elsewhere\n",
        '[remote "origin"]\n\t# url = https://github.com/old/place.git\n'
        "\turl = https://github.com/acme/payments-api.git\n",
    ],
    ids=["case-insensitive", "old-style", "old-style-case", "comments", "commented-out"],
)
def test_spellings_git_reads_the_same(checkout: Path, text: str) -> None:
    assert read_agrees(with_config(checkout, text)) == "https://github.com/acme/payments-api.git"


def test_another_remote_of_a_similar_name_is_not_origin(checkout: Path) -> None:
    with_config(checkout, '[remote "Origin"]\n\turl = https://github.com/acme/other.git\n')
    assert read_origin_url(checkout) is None
    assert asked_of_git(checkout) is None
    assert repo_slug(checkout) == checkout.name


@pytest.mark.parametrize(
    "text",
    [
        '[remote "origin"]\n\turl = "https://github.com/acme/payments-api.git"\n',
        '[remote "origin"]\n\turl = https://github.com/acme/\\\npayments-api.git\n',
        '[remote "origin"] url = https://github.com/acme/payments-api.git\n',
    ],
    ids=["quoted", "continued", "on-the-header-line"],
)
def test_values_beyond_the_reader_are_left_to_git(checkout: Path, text: str) -> None:
    with_config(checkout, text)
    assert read_origin_url(checkout) is None
    assert repo_slug(checkout) == "acme/payments-api"


def test_an_included_config_is_left_to_git(checkout: Path, tmp_path: Path) -> None:
    included = tmp_path / "remotes.gitconfig"
    included.write_text('[remote "origin"]\n\turl = https://github.com/acme/payments-api.git\n')
    git(checkout, "config", "include.path", str(included))
    assert read_origin_url(checkout) is None
    assert repo_slug(checkout) == "acme/payments-api"


def test_config_from_the_environment_is_left_to_git(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(checkout, "remote", "add", "origin", "https://github.com/acme/payments-api.git")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "remote.origin.url")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/elsewhere/mirror.git")
    assert read_origin_url(checkout) is None
    assert asked_of_git(checkout) == "https://github.com/elsewhere/mirror.git"


def test_a_linked_worktree_is_left_to_git(checkout: Path, tmp_path: Path) -> None:
    git(checkout, "remote", "add", "origin", "https://github.com/acme/payments-api.git")
    other = tmp_path / "wt"
    git(checkout, "worktree", "add", "-q", "-b", "feature", str(other))
    assert read_origin_url(other) is None
    assert repo_slug(other) == "acme/payments-api"


def test_a_submodule_like_gitdir_file(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q", "--separate-git-dir", str(tmp_path / "moved"), "-b", "main")
    git(outer, "remote", "add", "origin", "ssh://git@gitlab.example.com/team/outer.git")
    assert read_agrees(outer) == "ssh://git@gitlab.example.com/team/outer.git"


def test_no_origin_at_all(checkout: Path) -> None:
    assert read_origin_url(checkout) is None
    assert repo_slug(checkout) == checkout.name
