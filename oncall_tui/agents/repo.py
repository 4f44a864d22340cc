"""Where an agent works: repository root, branch and identifier, asked of git; touched files.

Hooks run on every prompt and edit of an agent, so everything here is standard library only and
every git call has a short timeout: a slow or broken git must cost the agent a few hundred
milliseconds at worst, never a hang. The root, the branch and the origin's URL are read from the
checkout's own files when it is an ordinary one (:func:`repo_info`, :func:`repo_slug`): starting
git costs a hook more than everything else it reads; anything unusual is still asked of git.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from oncall_tui.core.frozen import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Any, Final

GIT_TIMEOUT_S = 0.5
_GIT_ENV = {
    **os.environ,
    "GIT_OPTIONAL_LOCKS": "0",  # never take the index lock an agent's own git may need
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}
# Patterns rather than compiled: each hook call is a new process, and most never use them
# (``re`` compiles and caches one on its first use).
_SCP_LIKE = r"^(?:[^@/]+@)?[^/:]+:(?!//)(?P<path>.+)$"
_URL = r"(?i)^(?:https?|ssh|git(?:\+ssh)?)://[^/]+/(?P<path>.+)$"
_HEADS = "refs/heads/"
_RETABLE_DUMMY = "refs/heads/.invalid"
_COMMIT_ID = r"[0-9a-f]{40}|[0-9a-f]{64}"
_GIT_LOCATION_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_COMMON_DIR")
"""Variables with which git finds another repository (or tree) than the walk up from the cwd."""
TOOL_PATH_KEYS = ("file_path", "path", "notebook_path")
"""Keys of Claude Code's ``tool_input`` that name a file (Edit, Write, Read, NotebookEdit...)."""


class RepoInfo(Frozen):
    """The checkout a session works in, as git sees it."""

    __slots__ = ("root", "branch")

    def __init__(self, root: Path | None, branch: str | None) -> None:
        self.root: Final = root
        """The working tree's top level (symlinks resolved, as git reports it); None outside git."""
        self.branch: Final = branch
        """None on a detached HEAD: a commit id says nothing about the work in progress."""


def repo_info(cwd: str) -> RepoInfo:
    """Root and branch of the checkout around ``cwd``: read from its files when it is an ordinary
    checkout (:func:`read_checkout`), else asked of git."""
    return read_checkout(cwd) or git_repo_info(cwd)


def read_checkout(cwd: str) -> RepoInfo | None:
    """What ``git rev-parse`` would say of ``cwd``, from ``.git`` and its ``HEAD`` file alone;
    None whenever git might see it otherwise (a test holds the two in agreement).

    Git is left to answer for: a ``GIT_*`` variable that moves the repository or its tree,
    a directory inside ``.git``, a repository another user owns (git's ``safe.directory``
    check), a ``HEAD`` that is not a plain ref or commit id (reftable keeps a dummy one).
    """
    if any(name in os.environ for name in _GIT_LOCATION_ENV):
        return None
    here = os.path.realpath(cwd)
    if not os.path.isdir(here) or ".git" in Path(here).parts:
        return None
    while True:
        dot_git = os.path.join(here, ".git")
        try:
            owner = os.stat(dot_git).st_uid
        except OSError:
            parent = os.path.dirname(here)
            if parent == here:
                return None  # not a checkout (git would say so too, after a longer walk)
            here = parent
            continue
        if owner != os.getuid():
            return None
        head = _head_file(dot_git)
        if head is None:
            return None
        return _from_head(Path(here), head)


def _head_file(dot_git: str) -> str | None:
    """The text of the checkout's ``HEAD``."""
    git_dir = _own_git_dir(dot_git)
    if git_dir is None:
        return None
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as head:
            return head.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_git_dir(dot_git: str) -> str | None:
    """The repository directory of a checkout: ``.git``, or the directory a ``.git`` file
    points to (a submodule); None for a linked worktree, whose config and refs git also reads
    from the main repository, and for anything unreadable."""
    try:
        if os.path.isdir(dot_git):
            git_dir = dot_git
        else:
            with open(dot_git, encoding="utf-8") as pointer:
                line = pointer.read().strip()
            if not line.startswith("gitdir: "):
                return None
            git_dir = os.path.join(os.path.dirname(dot_git), line.removeprefix("gitdir: "))
        if os.path.isfile(os.path.join(git_dir, "commondir")):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return git_dir


def _from_head(root: Path, head: str) -> RepoInfo | None:
    if head.startswith("ref: "):
        ref = head.removeprefix("ref: ").strip()
        if not ref.startswith(_HEADS) or ref == _RETABLE_DUMMY:
            return None
        return RepoInfo(root, ref.removeprefix(_HEADS) or None)
    if re.fullmatch(_COMMIT_ID, head):
        return RepoInfo(root, None)  # detached
    return None


def git_repo_info(cwd: str) -> RepoInfo:
    """Root and branch of the checkout around ``cwd``, in one git call (two on an unborn branch)."""
    done = _git(cwd, "rev-parse", "--show-toplevel", "--symbolic-full-name", "HEAD")
    lines = done[1].splitlines() if done is not None else []
    if done is None or not lines or not os.path.isabs(lines[0]):
        return RepoInfo(None, None)
    root = Path(lines[0])
    if done[0] == 0:
        ref = lines[1] if len(lines) > 1 else ""
        return RepoInfo(root, ref.removeprefix(_HEADS) if ref.startswith(_HEADS) else None)
    # A branch with no commit yet: rev-parse cannot name HEAD, symbolic-ref can.
    unborn = _git(cwd, "symbolic-ref", "--short", "-q", "HEAD")
    branch = unborn[1] if unborn is not None and unborn[0] == 0 else ""
    return RepoInfo(root, branch or None)


def repo_slug(root: Path) -> str:
    """``owner/name`` from the origin remote, else the root directory's name."""
    url = read_origin_url(root)
    if url is None:
        done = _git(str(root), "config", "--get", "remote.origin.url")
        url = done[1] if done is not None and done[0] == 0 else ""
    return (slug_from_url(url) if url else None) or root.name


def read_origin_url(root: Path) -> str | None:
    """What ``git config --get remote.origin.url`` would say in the checkout at ``root``, from
    its config file alone; None whenever git might say otherwise (a test holds the two in
    agreement).

    Performance: a session start and a commit ask it on every hook call that writes, and
    importing subprocess and starting git cost those hooks more than the rest of their reading.
    Git is left to answer for: a ``GIT_*`` variable that moves the repository or adds config, a
    linked worktree, a repository another user owns, a config that includes others, a value
    quoted or escaped, and a config with no origin URL (git's other config files might hold
    one).
    """
    if any(name in os.environ for name in _GIT_LOCATION_ENV) or any(
        name.startswith("GIT_CONFIG") for name in os.environ
    ):
        return None
    dot_git = os.path.join(root, ".git")
    git_dir = _own_git_dir(dot_git)
    if git_dir is None:
        return None
    try:
        if os.stat(dot_git).st_uid != os.getuid():
            return None  # git's safe.directory check decides what it reads
        with open(os.path.join(git_dir, "config"), encoding="utf-8") as config:
            return _origin_url(config.read())
    except (OSError, UnicodeDecodeError):
        return None


def _origin_url(config: str) -> str | None:
    """The last ``url`` of ``[remote "origin"]`` in a git config's text; None when the text is
    beyond this reader (see :func:`read_origin_url`) or has none."""
    url: str | None = None
    in_origin = False
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            header, _, rest = line[1:].partition("]")
            if rest.strip() and rest.strip()[0] not in "#;":
                return None  # a key on the header's line
            name, _, subsection = header.strip().partition(" ")
            if name.lower().startswith("include"):
                return None  # include.path, includeIf.<condition>.path
            # [remote "origin"], or the old [remote.origin] (whose subsection is lower-cased)
            in_origin = (name.lower(), subsection.strip()) == ("remote", '"origin"') or (
                not subsection and name.lower() == "remote.origin"
            )
            continue
        if not in_origin or not line or line[0] in "#;":
            continue
        key, equals, value = line.partition("=")
        if key.strip().lower() != "url":
            continue
        if not equals or '"' in value or "\\" in value:
            return None  # a bare key (true), a quoted or escaped value, a continued line
        url = re.split(r"[#;]", value, maxsplit=1)[0].strip()
    return url or None


def slug_from_url(url: str) -> str | None:
    """``owner/name`` of an https or ssh remote URL; None for local paths and file URLs.

    Only the last two path segments are kept, and the userinfo is stripped first, so credentials
    embedded in a remote URL (``https://user:token@host/...``) can never reach the journal.
    """
    from oncall_tui.core.urls import without_userinfo  # a session is registered: not a hot path

    text = without_userinfo(url.strip())
    match = re.match(_URL, text) or (None if "://" in text else re.match(_SCP_LIKE, text))
    if match is None:
        return None
    segments = [
        s for s in match.group("path").removesuffix("/").removesuffix(".git").split("/") if s
    ]
    return "/".join(segments[-2:]) if len(segments) >= 2 else None


def tool_paths(tool_input: Mapping[str, Any]) -> list[str]:
    """Every file a tool call names, in order, without duplicates (``edits[]`` included)."""
    found: list[str] = []
    items: list[Mapping[str, Any]] = [tool_input]
    edits = tool_input.get("edits")
    if isinstance(edits, list):
        items += [e for e in edits if isinstance(e, Mapping)]
    for item in items:
        found += [item[k] for k in TOOL_PATH_KEYS if isinstance(item.get(k), str) and item[k]]
    return list(dict.fromkeys(found))


def relative_paths(paths: Iterable[str], root: Path, cwd: str) -> list[str]:
    """``paths`` relative to ``root``; relative ones are taken from ``cwd``, outsiders dropped.

    Directories are resolved, because git reports the real root while an agent may name a file
    through a symlinked directory (``/tmp`` on macOS, a symlinked checkout); the file itself is
    not, so a symlink kept in the repo counts as the repo's file.
    """
    real_root = Path(os.path.realpath(root))
    kept: list[str] = []
    for raw in paths:
        named = Path(cwd, raw)
        absolute = Path(os.path.realpath(named.parent), named.name)
        try:
            relative = absolute.relative_to(real_root)
        except ValueError:
            continue
        if relative.parts:
            kept.append(relative.as_posix())
    return list(dict.fromkeys(kept))


def _git(cwd: str, *args: str) -> tuple[int, str] | None:
    """Exit status and stripped stdout; None when git could not run or took too long."""
    import subprocess  # only here: the hook's usual reads never start git

    try:
        done = subprocess.run(
            ["git", "-C", cwd, *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=_GIT_ENV,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode, done.stdout.strip()
