"""Opt-in writers that put a pointer to the exported context where agents already look.

Agents do not know about the export directory, but they read ``AGENTS.md`` (Codex, Cursor and
most others), ``CLAUDE.md`` (Claude Code, through an ``@path`` import) and
``.cursor/rules/*.mdc`` (Cursor). These files belong to the repository and its people, so the
writers only ever touch a marker-delimited block (or a file of their own, ``oncall.mdc``) and
keep every other byte as it was; when nothing is active the block, or the file, goes away.

One checkout can host several sessions (two agents in the same tree): each file then names every
session working there, sorted by id so that heartbeats do not reorder (and rewrite) it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from oncall_tui.agents.export.atomic import (
    Planned,
    UnsafePathError,
    contained,
    remove_file,
    stray_temp_files,
    write_atomic,
)
from oncall_tui.core.models import Incident
from oncall_tui.core.sanitize import identifier
from oncall_tui.core.topology import WHOLE_REPO, Catalog, blast_radius, repo_matches

RepoWriter = Literal["agents-md", "claude-md", "cursor"]
"""Same values as ``ExportSettings.repo_writers`` (config does not import the agents layer)."""
WRITERS: tuple[RepoWriter, ...] = get_args(RepoWriter)

BEGIN = "<!-- oncall-tui:begin -->"
END = "<!-- oncall-tui:end -->"
CURSOR_RULE = (".cursor", "rules", "oncall.mdc")
_FILES: dict[RepoWriter, str] = {
    "agents-md": "AGENTS.md",
    "claude-md": "CLAUDE.md",
    "cursor": "/".join(CURSOR_RULE),
}
NEW_FILE_MODE = 0o644
"""Repository files are shared and usually committed: readable, unlike the private export."""

_MARKER = re.compile(rf"^(?:{re.escape(BEGIN)}|{re.escape(END)})[ \t]*\r?$", re.MULTILINE)


class MarkerError(ValueError):
    """The file's oncall-tui markers are unbalanced: rewriting it could destroy someone's text."""


@dataclass(frozen=True)
class CheckoutSession:
    """One session working in a checkout, with what it was told (only if something is active)."""

    session_id: str
    agent: str
    context_path: Path
    markdown: str
    incidents: list[Incident]
    globs: list[str]


def find_checkout(cwd: str | None) -> Path | None:
    """The git work tree containing ``cwd``, if it exists on this machine.

    Requiring ``.git`` keeps the writers inside repositories: a session that reports ``/`` or
    a home directory as its cwd must not get an ``AGENTS.md`` written there.
    """
    if not cwd:
        return None
    start = Path(cwd)
    if not start.is_absolute() or not start.is_dir():
        return None
    for candidate in (start.resolve(), *start.resolve().parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def cursor_globs(catalog: Catalog, repo: str | None, degraded: Iterable[str]) -> list[str]:
    """Globs of the services in the blast radius that live in this repo, in Cursor's spelling.

    A service's ``paths`` are relative to its repo root, like Cursor's globs; services of other
    repos are left out, since their paths mean nothing in this checkout.
    """
    globs: list[str] = []
    for name in blast_radius(catalog, degraded):
        service = catalog.services.get(name)
        if service is None or service.repo is None or not repo_matches(service.repo, repo):
            continue
        # CODEOWNERS-derived rules: their owned globs (a superset, later exceptions aside).
        ruled = [
            rule.glob
            for rule_set in service.path_rules
            if repo_matches(rule_set.repo, repo)
            for rule in rule_set.rules
            if rule.owned
        ]
        for pattern in service.paths or ruled or [WHOLE_REPO]:
            glob = pattern + "**" if pattern.endswith("/") else pattern
            if glob not in globs:
                globs.append(glob)
    return globs


def splice_block(existing: str | None, body: str | None) -> str | None:
    """``existing`` with the oncall-tui block set to ``body`` (``None``: block removed).

    A new block goes at the top, so removing it later gives back the original bytes exactly;
    an existing block is replaced where it stands. ``None`` means the file should not exist:
    it held nothing but our block (we created it).
    """
    block = None if body is None else f"{BEGIN}\n{body.rstrip()}\n{END}\n"
    if existing is None:
        return block
    markers = list(_MARKER.finditer(existing))
    if not markers:
        return existing if block is None else block + existing
    kinds = [m.group(0).strip() for m in markers]
    if kinds != [BEGIN, END]:
        raise MarkerError(f"expected one {BEGIN} … {END} pair, found {len(markers)} marker(s)")
    start, end = markers[0].start(), markers[1].end()
    if existing[end : end + 1] == "\n":
        end += 1
    result = existing[:start] + (block or "") + existing[end:]
    return result or None


def agents_md_body(sessions: list[CheckoutSession]) -> str:
    lines = [
        "## Production incidents (oncall-tui)",
        "",
        "Generated by oncall-tui; this block is rewritten on every change and removed when",
        "the incidents resolve. Before changing code here, read the approved context:",
        "",
    ]
    for item in sessions:
        lines.append(
            f"- `{item.context_path}` (session `{item.session_id}`, {identifier(item.agent)}): "
            + summary(item.incidents)
        )
    return "\n".join(lines)


def claude_md_body(sessions: list[CheckoutSession]) -> str:
    lines = ["Production incidents affect this checkout; approved context (oncall-tui):"]
    lines += [f"@{item.context_path}" for item in sessions]
    return "\n".join(lines)


def cursor_rule(sessions: list[CheckoutSession]) -> str:
    """The ``.mdc`` file: frontmatter a YAML parser reads as Cursor expects, then the context.

    ``yaml.safe_dump`` quotes a glob only when it must (one starting with ``*``), and writes
    ``alwaysApply`` as the boolean ``false``: a string ``"false"`` is a different value.
    """
    globs: list[str] = []
    for item in sessions:
        globs += [g for g in item.globs if g not in globs]
    front = {
        "description": "Active production incidents affecting this code (generated by oncall-tui)",
        "globs": ",".join(globs),
        "alwaysApply": False,
    }
    import yaml  # here: a sync that writes no Cursor rule (most) is spared its 10 ms import

    header = yaml.safe_dump(front, sort_keys=False, width=1_000_000, allow_unicode=True)
    bodies = "\n\n---\n\n".join(item.markdown.rstrip() for item in sessions)
    return f"---\n{header}---\n{bodies}\n"


def summary(incidents: list[Incident]) -> str:
    """Structured fields only: sender text (titles) never leaves the fenced document."""
    return "; ".join(
        f"{identifier(i.id)} {i.severity.value} {i.state.value}"
        f" ({', '.join(identifier(s) for s in i.services)})"
        for i in incidents
    )


def plan_file(root: Path, writer: RepoWriter, sessions: list[CheckoutSession]) -> Planned | None:
    """The state one writer's file in ``root`` should be in (``None``: leave it as it is).

    Reads the current file to splice into it. Raises :class:`MarkerError` or
    :class:`~oncall_tui.agents.export.atomic.UnsafePathError` for a file that must not be touched.
    """
    active = sorted((s for s in sessions if s.incidents), key=lambda s: s.session_id)
    if writer == "cursor":
        path = contained(root, *CURSOR_RULE)
        current = _read(path)
        text = cursor_rule(active) if active else None
    else:
        body = agents_md_body if writer == "agents-md" else claude_md_body
        path = contained(root, _FILES[writer])
        current = _read(path)
        text = splice_block(current, body(active) if active else None)
    if path.is_symlink():
        if text == current:
            return None
        # Replacing it would turn e.g. a CLAUDE.md -> AGENTS.md link into a plain file.
        raise UnsafePathError(f"{path} is a symlink; oncall-tui does not replace links")
    mode = (path.stat().st_mode & 0o7777) if current is not None else NEW_FILE_MODE
    return Planned(path, None if text is None else text.encode("utf-8", "surrogateescape"), mode)


def _read(path: Path) -> str | None:
    """The file as text whose every byte survives the round trip, even if it is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


@dataclass
class RepoPlan:
    """What every known checkout should contain, and the files that must be left alone."""

    planned: list[Planned] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)
    failures: dict[Path, str] = field(default_factory=dict)

    def holding(self) -> list[Path]:
        """Checkouts that will hold something of ours (or may: a file could not be planned)."""
        ours = [p.path for p in self.planned if p.data is not None] + list(self.failures)
        return [r for r in self.roots if any(path.is_relative_to(r) for path in ours)]


def plan_repos(
    state_file: Path,
    checkouts: dict[Path, list[CheckoutSession]],
    enabled: list[RepoWriter],
) -> RepoPlan:
    """Plan the checkouts with sessions now, plus those written before (``state_file``).

    Remembering past checkouts is what lets a block be removed after its session is gone from
    the DB or moved elsewhere; disabled writers are planned as "nothing active", so turning one
    off cleans up after it.
    """
    plan = RepoPlan(roots=sorted(set(checkouts) | set(_load_roots(state_file))))
    for root in plan.roots:
        for writer in WRITERS:
            sessions = checkouts.get(root, []) if writer in enabled else []
            try:
                planned = plan_file(root, writer, sessions)
            except (MarkerError, UnsafePathError, OSError) as exc:
                plan.failures[root / _FILES[writer]] = str(exc)
                continue
            if planned is not None:
                plan.planned.append(planned)
    return plan


def save_roots(state_file: Path, plan: RepoPlan) -> None:
    holding = plan.holding()
    if not holding:
        remove_file(state_file)
        return
    data = (json.dumps([str(r) for r in holding], indent=2) + "\n").encode("utf-8")
    if not state_file.exists() or state_file.read_bytes() != data:
        write_atomic(state_file, data)


def stray_files(roots: Iterable[Path]) -> Iterator[Path]:
    """Temp files of ours a killed writer left in checkouts (only our names: others' are theirs)."""
    prefixes = tuple(f".{Path(name).name}." for name in _FILES.values())
    for root in roots:
        for folder in (root, root.joinpath(*CURSOR_RULE[:-1])):
            if folder.is_dir() and not folder.is_symlink():
                strays = stray_temp_files(folder, recursive=False)
                yield from (p for p in strays if p.name.startswith(prefixes))


def _load_roots(state_file: Path) -> list[Path]:
    try:
        roots = json.loads(state_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    if not isinstance(roots, list):
        return []
    return [Path(r) for r in roots if isinstance(r, str) and Path(r).is_absolute()]
