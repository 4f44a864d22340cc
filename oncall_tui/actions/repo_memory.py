"""The team's memory in the repository: export, import, check and commit ``.oncall/memory/``.

The DB is where notes are written and reviewed; the files are how they travel with the code
(another engineer's DB, a fresh machine, CI). The check is what keeps the two, and the code,
in agreement: a commit of the memory is made only when it passes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from oncall_tui.actions.note_history import commit_reasons, missing_globs, run_git
from oncall_tui.actions.notes import list_notes
from oncall_tui.core.journal import NoteAdded
from oncall_tui.core.note_files import (
    MEMORY_DIR,
    FileNote,
    MemoryFileError,
    commit_message,
    file_name,
    is_agent,
    parse_file,
    render_file,
)
from oncall_tui.store.journal import Store

COMMIT_TIMEOUT_S = 20.0


def repo_services(store: Store, slug: str, root: Path, named: list[str]) -> list[str]:
    """The services whose memory lives in this repository: those named, else the catalog's
    services in repo ``slug``, and those with notes written in this checkout."""
    if named:
        return sorted(set(named))
    catalog = store.tables().get_catalog()
    mine = {name for name, s in catalog.items() if s.repo and s.repo.lower() == slug.lower()}
    here = str(root.resolve())
    mine |= {n.service for n in list_notes(store) if n.service and n.repo_root == here}
    return sorted(mine)


def db_memory(store: Store, services: list[str]) -> dict[str, list[FileNote]]:
    """Accepted, current notes of each service, as the files hold them."""
    wanted = set(services)
    found: dict[str, list[FileNote]] = {s: [] for s in services}
    for note in list_notes(store):
        if note.service in wanted and note.is_current:
            found[note.service].append(FileNote.of(note))
    return found


def memory_path(root: Path, service: str) -> Path:
    return root / MEMORY_DIR / file_name(service)


def export_memory(store: Store, root: Path, services: list[str]) -> list[Path]:
    """Write one file per service with notes (and remove a service's file once it has none)."""
    written = []
    for service, notes in db_memory(store, services).items():
        path = memory_path(root, service)
        if not notes:
            path.unlink(missing_ok=True)
            continue
        text = render_file(service, notes)
        if parse_file(text) != sorted(notes, key=lambda n: n.number):
            raise MemoryFileError(f"{service}: a note's text cannot be written as a memory file")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def file_memory(root: Path) -> tuple[dict[str, list[FileNote]], list[str]]:
    """The notes of every memory file by service, and the files that could not be read."""
    found: dict[str, list[FileNote]] = {}
    problems = []
    folder = root / MEMORY_DIR
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        relative = path.relative_to(root).as_posix()
        try:
            found[path.stem] = parse_file(path.read_text(encoding="utf-8"))
        except (MemoryFileError, UnicodeDecodeError, OSError) as exc:
            problems.append(f"{relative}: {exc}")
    return found, problems


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_memory(store: Store, root: Path, actor: str) -> ImportResult:
    """Learn the repository's notes (same ids): a note already known is left alone unless the
    file's is newer; an id the DB uses for another note is a conflict, not overwritten."""
    result = ImportResult()
    by_service, result.problems = file_memory(root)
    here = str(root.resolve())
    with store.write(durable=True) as writer:
        for notes in by_service.values():
            for file_note in notes:
                known = writer.tables.get_note(file_note.id)
                if known is not None and known.created_at != file_note.created:
                    result.conflicts.append(
                        f"{file_note.id}: this DB has another note with that id ({known.service})"
                    )
                    continue
                if known is not None and FileNote.of(known) == file_note:
                    continue
                if known is not None and known.updated_at >= file_note.updated:
                    continue
                writer.append(NoteAdded(file_note.to_note(here)), actor=actor)
                (result.updated if known else result.added).append(file_note.id)
    return result


def check_memory(store: Store, root: Path, services: list[str]) -> list[str]:
    """One line per disagreement between the DB, the files and the code; none when clean."""
    catalog = store.tables().get_catalog()
    files, problems = file_memory(root)
    db = db_memory(store, sorted(set(services) | set(files)))
    for service in sorted(set(db) | set(files)):
        relative = f"{MEMORY_DIR}/{file_name(service)}"
        if service not in catalog:
            problems.append(f"{relative}: unknown service {service!r} (not in the catalog)")
        problems += _compare(relative, db.get(service, []), files.get(service))
        path = memory_path(root, service)
        on_disk = files.get(service)
        if on_disk and path.read_text(encoding="utf-8") != render_file(service, on_disk):
            problems.append(f"{relative}: not as `oncall-tui memory export` writes it")
    for note in list_notes(store):
        if note.service in db and note.is_current and note.paths:
            where = str(root)
            about = f"{note.id} ({note.service})"
            problems += [f"{about}: {g} matches no file" for g in missing_globs(where, note.paths)]
            problems += [
                f"{about}: {why}: review it (accept an update or retire it)"
                for why in commit_reasons(note, where)
            ]
    return problems


def _compare(relative: str, db: list[FileNote], file: list[FileNote] | None) -> list[str]:
    in_db = {n.id: n for n in db}
    in_file = {n.id: n for n in file or []}
    problems = []
    for note_id in sorted(set(in_db) | set(in_file), key=lambda i: int(i.removeprefix("N-"))):
        ours, theirs = in_db.get(note_id), in_file.get(note_id)
        if ours == theirs:
            continue
        if theirs is None:
            problems.append(f"{relative}: out of date, {note_id} is missing (memory export)")
        elif ours is None:
            problems.append(f"{relative}: {note_id} is not in the DB (memory import)")
        elif theirs.updated > ours.updated:
            problems.append(f"{relative}: the DB is out of date for {note_id} (memory import)")
        else:
            problems.append(f"{relative}: out of date for {note_id} (memory export)")
    return problems


class MemoryCommitError(RuntimeError):
    pass


def commit_memory(root: Path, branch: str | None) -> tuple[str, list[str]] | None:
    """Commit only the memory files, on the current branch or ``branch``; the new sha and the
    notes it records, or None when the files already match that branch."""
    where = str(root)
    current = (run_git(where, ["symbolic-ref", "--short", "-q", "HEAD"]) or "").strip()
    target = branch or current
    if not target:
        raise MemoryCommitError("HEAD is detached: name a branch with --branch")
    parent = (run_git(where, ["rev-parse", "--verify", "-q", f"refs/heads/{target}"]) or "").strip()
    base = parent or (run_git(where, ["rev-parse", "--verify", "-q", "HEAD"]) or "").strip()
    files, _ = file_memory(root)
    changed = _changed_notes(where, base, files)
    if not changed:
        return None
    co_authors = [_co_author(n.author) for n in changed if is_agent(n.author)]
    message = commit_message(changed, co_authors)
    if target == current:
        run_git(where, ["add", "-A", "--", MEMORY_DIR])
        done = run_git(
            where,
            ["commit", "-q", "-F", "-", "--", MEMORY_DIR],
            stdin=message,
            timeout=COMMIT_TIMEOUT_S,
        )
        if done is None:
            raise MemoryCommitError("git commit failed (is user.name/user.email set?)")
        sha = (run_git(where, ["rev-parse", "HEAD"]) or "").strip()
    else:
        sha = _commit_elsewhere(root, target, parent, base, message)
    return sha, [n.id for n in changed]


def _changed_notes(root: str, base: str, files: dict[str, list[FileNote]]) -> list[FileNote]:
    """Notes new or different from those the files hold at ``base``."""
    changed = []
    for service, notes in files.items():
        before_text = (
            run_git(root, ["show", f"{base}:{MEMORY_DIR}/{file_name(service)}"]) if base else None
        )
        try:
            before = {n.id: n for n in parse_file(before_text or "")}
        except MemoryFileError:
            before = {}
        changed += [n for n in notes if before.get(n.id) != n]
    return sorted(changed, key=lambda n: n.number)


def _commit_elsewhere(root: Path, target: str, parent: str, base: str, message: str) -> str:
    """A commit on a branch that is not checked out, through a scratch index: neither the
    working tree nor the real index changes."""
    where = str(root)
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        steps = [["read-tree", base]] if base else [["read-tree", "--empty"]]
        steps.append(["rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", MEMORY_DIR])
        for path in sorted((root / MEMORY_DIR).glob("*.md")):
            steps.append(["add", "-f", "--", path.relative_to(root).as_posix()])
        for step in steps:
            if run_git(where, step, env=env, timeout=COMMIT_TIMEOUT_S) is None:
                raise MemoryCommitError(f"git {step[0]} failed")
        tree = (run_git(where, ["write-tree"], env=env) or "").strip()
        args = ["commit-tree", tree, *(["-p", base] if base else []), "-F", "-"]
        sha = (run_git(where, args, stdin=message, timeout=COMMIT_TIMEOUT_S) or "").strip()
    if not tree or not sha:
        raise MemoryCommitError("git could not write the commit")
    old = parent or "0" * 40
    if run_git(where, ["update-ref", f"refs/heads/{target}", sha, old]) is None:
        raise MemoryCommitError(f"branch {target} moved meanwhile: try again")
    return sha


def _co_author(author: str) -> str:
    """A ``Name <email>`` for an agent session (git trailers need an address; this one
    reaches no one)."""
    session = author.removeprefix("agent:")
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in session)[:64] or "agent"
    return f"{author} <{safe}@agents.oncall-tui.invalid>"
