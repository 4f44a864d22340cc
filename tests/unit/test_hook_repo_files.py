"""The checkout read from its files says what git says (:func:`~oncall_tui.agents.repo.read_checkout`).

The hook reads ``.git/HEAD`` rather than starting git; each checkout shape below is read both
ways, and where the files alone cannot be trusted the reader declines and git answers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from oncall_tui.agents.repo import RepoInfo, git_repo_info, read_checkout, repo_info


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src" / "deep").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "src" / "a.py").write_text("a\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def both_agree(cwd: Path) -> RepoInfo:
    read = read_checkout(str(cwd))
    asked = git_repo_info(str(cwd))
    assert read == asked
    return asked


def test_branch_at_the_root_and_below(checkout: Path) -> None:
    assert both_agree(checkout) == RepoInfo(checkout.resolve(), "main")
    assert both_agree(checkout / "src" / "deep") == RepoInfo(checkout.resolve(), "main")


def test_a_branch_with_a_slash(checkout: Path) -> None:
    git(checkout, "switch", "-q", "-c", "fix/retry-budget")
    assert both_agree(checkout / "src").branch == "fix/retry-budget"


def test_detached_head_has_no_branch(checkout: Path) -> None:
    git(checkout, "switch", "-q", "--detach")
    assert both_agree(checkout) == RepoInfo(checkout.resolve(), None)


def test_unborn_branch(tmp_path: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    assert both_agree(repo) == RepoInfo(repo.resolve(), "trunk")


def test_through_a_symlinked_directory(checkout: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(checkout)
    assert both_agree(link / "src") == RepoInfo(checkout.resolve(), "main")


def test_outside_any_checkout(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    # git may find a checkout above tmp_path; the reader must then find the same one
    assert read_checkout(str(plain)) in (git_repo_info(str(plain)), None)
    assert repo_info(str(plain)) == git_repo_info(str(plain))


def test_a_submodule_like_gitdir_file(checkout: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q", "--separate-git-dir", str(moved), "-b", "side")
    assert (outer / ".git").is_file()
    assert both_agree(outer) == RepoInfo(outer.resolve(), "side")


def test_linked_worktree_and_inside_git_dir_are_left_to_git(checkout: Path, tmp_path: Path) -> None:
    other = tmp_path / "wt"
    git(checkout, "worktree", "add", "-q", "-b", "feature", str(other))
    assert read_checkout(str(other)) is None
    assert repo_info(str(other)) == RepoInfo(other.resolve(), "feature")
    assert read_checkout(str(checkout / ".git")) is None


def test_git_dir_in_the_environment_is_left_to_git(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(checkout / ".git"))
    assert read_checkout(str(tmp_path)) is None
