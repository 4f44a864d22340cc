"""CODEOWNERS files as path-level ownership of catalog services.

A repository with no catalog entry per directory often has a CODEOWNERS file
(https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners).
Its rules are read with GitHub's semantics:

- one rule per line: a pattern, then owners (``@user``, ``@org/team``, ``name@example.com``);
  a rule with no owners leaves the files it matches without an owner;
- ``#`` starts a comment, on its own line or after whitespace; ``\\#`` inside a pattern is a
  literal ``#``, and ``\\`` before a space keeps the space in the pattern;
- patterns are gitignore's: ``*`` within a segment, ``**`` across directories, a leading ``/``
  anchors at the root, a slash in the middle anchors too, a pattern without a slash matches at
  any depth, a trailing ``/`` matches a directory's contents, and a pattern matching a
  directory matches everything below it, except that a last segment of exactly ``*``
  (``docs/*``) matches only the files directly inside;
- the last matching rule wins, for each file;
- the lines GitHub skips as invalid are skipped and reported: ``!`` negation, ``[ ]`` ranges,
  a leading ``\\#``, and owners that are not handles or e-mail addresses.

Each owner is mapped to services: through an explicit mapping (``[catalog] owners`` in the
configuration) when it names the owner, else through the owners the catalog lists for its
services, compared by name (``@acme/payments-team`` is Backstage's
``group:default/payments-team``). See :mod:`oncall_tui.core.topology` for how the rules are kept
per service so that last-match-wins holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oncall_tui.core.topology import Catalog, PathRule, PathRuleSet, Service, repo_matches

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
"""Where GitHub looks for the file, in the order it looks: the first one found is used."""

_HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9_.-]*)(?:/[A-Za-z0-9_.-]+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class CodeownersRule:
    """One valid rule: its pattern as written, the equivalent catalog glob, and its owners."""

    line: int
    pattern: str
    glob: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class CodeownersFile:
    """The rules of a file in order, and the lines skipped, as ``(line, why)``."""

    rules: list[CodeownersRule]
    skipped: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Applied:
    """A catalog with a CODEOWNERS file applied, and what came of each owner."""

    catalog: Catalog
    rules_by_service: dict[str, int]
    """Services that own at least one rule, with how many."""
    unmapped_owners: dict[str, int]
    """Owners no service matched, with how many rules name them."""


def parse_codeowners(text: str) -> CodeownersFile:
    """The rules of a CODEOWNERS file, in order (see the module docstring for the syntax)."""
    rules: list[CodeownersRule] = []
    skipped: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        problem = _unsupported(line)
        tokens = _tokens(line) if problem is None else []
        pattern, owners = (tokens[0], tokens[1:]) if tokens else ("", [])
        if problem is None:
            bad = [o for o in owners if not (_HANDLE.match(o) or _EMAIL.match(o))]
            problem = f"not an owner: {bad[0]!r}" if bad else None
        if problem is None and pattern in ("", "/"):
            problem = "no pattern"
        if problem is not None:
            skipped.append((number, problem))
            continue
        rules.append(CodeownersRule(number, pattern, codeowners_glob(pattern), tuple(owners)))
    return CodeownersFile(rules, skipped)


def codeowners_glob(pattern: str) -> str:
    """The catalog glob (:mod:`oncall_tui.core.topology`) matching what a CODEOWNERS pattern does."""
    anchored = pattern.startswith("/")
    directory_only = pattern.endswith("/")
    segments = [s for s in pattern.split("/") if s]
    if not anchored and len(segments) == 1 and segments[0] != "**":
        segments.insert(0, "**")  # no slash but a trailing one: matches at any depth
    if directory_only:
        segments += ["*", "**"]  # the directory's contents, not a file of that name
    elif segments[-1] not in ("*", "**"):
        segments.append("**")  # the path itself, or everything below it
    return "/".join(segments)


def apply_codeowners(
    catalog: Catalog,
    parsed: CodeownersFile,
    repo: str,
    source: str,
    owner_map: Mapping[str, Sequence[str]],
) -> Applied:
    """``catalog`` with the rules of ``parsed`` (the CODEOWNERS of ``repo``) given to services.

    Rules this repo's CODEOWNERS gave before (an earlier load) are replaced. A service the
    mapping names that the catalog lacks is added, with no repo of its own: a repository with
    only a CODEOWNERS file still gets path-level targeting.
    """
    services = {
        name: s.model_copy(
            update={"path_rules": [rs for rs in s.path_rules if not _same_repo(rs.repo, repo)]}
        )
        for name, s in catalog.services.items()
    }
    mapped = {k.strip().lower(): list(v) for k, v in owner_map.items()}
    owned_by: list[list[str]] = []
    unmapped: dict[str, int] = {}
    for rule in parsed.rules:
        names: list[str] = []
        for owner in rule.owners:
            found = mapped.get(owner.lower())
            if found is None:
                found = [s.name for s in services.values() if _owns(s, owner)]
            if not found:
                unmapped[owner] = unmapped.get(owner, 0) + 1
            names += [n for n in found if n not in names]
        owned_by.append(names)
    written = [
        (rule.glob, f"{source}:{rule.line} {rule.pattern} {' '.join(rule.owners) or 'no owner'}")
        for rule in parsed.rules
    ]
    for name in dict.fromkeys(n for names in owned_by for n in names):
        service = services.get(name) or Service(name=name)
        rules = ordered_rules(name, written, owned_by)
        rule_set = PathRuleSet(repo=repo, source=source, rules=rules)
        services[name] = service.model_copy(update={"path_rules": [*service.path_rules, rule_set]})
    counts = {n: sum(n in names for names in owned_by) for n in services}
    return Applied(
        Catalog(services=services, source=catalog.source),
        {n: c for n, c in sorted(counts.items()) if c},
        dict(sorted(unmapped.items())),
    )


def ordered_rules(
    name: str, rules: Sequence[tuple[str, str]], owned_by: Sequence[Sequence[str]]
) -> list[PathRule]:
    """One service's view of ordered ``(glob, origin)`` rules, where the last match wins.

    The rules from the service's first one on: its own, and the later ones of others that can
    match a file one of its earlier rules matches (told by literal prefix, a safe test).
    """
    mine = [i for i, names in enumerate(owned_by) if name in names]
    kept: list[PathRule] = []
    prefixes: list[tuple[str, ...]] = []
    for index in range(mine[0] if mine else len(rules), len(rules)):
        glob, origin = rules[index]
        prefix = _literal_prefix(glob)
        owned = name in owned_by[index]
        if owned or any(_compatible(prefix, p) for p in prefixes):
            kept.append(PathRule(glob=glob, owned=owned, origin=origin))
        if owned:
            prefixes.append(prefix)
    return kept


def _unsupported(line: str) -> str | None:
    if line.startswith("\\#"):
        return "a pattern starting with an escaped '#' (GitHub does not support it)"
    if line.startswith("!"):
        return "'!' negation (GitHub does not support it)"
    pattern = _tokens(line)[0] if _tokens(line) else ""
    if "[" in pattern or "]" in pattern:
        return "'[ ]' character ranges (GitHub does not support them)"
    return None


def _tokens(line: str) -> list[str]:
    """Whitespace-separated words, honouring ``\\`` escapes, up to an unescaped ``#`` word."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    chars = iter(line)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
            in_word = True
        elif char.isspace():
            if in_word:
                words.append("".join(current))
            current, in_word = [], False
        elif char == "#" and not in_word:
            break
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current))
    return words


def _literal_prefix(glob: str) -> tuple[str, ...]:
    prefix: list[str] = []
    for segment in glob.split("/"):
        if "*" in segment or "?" in segment:
            break
        prefix.append(segment)
    return tuple(prefix)


def _compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two globs with these literal prefixes could match the same path."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _owner_key(owner: str) -> str:
    """How owners compare: case-insensitively, a team by its name, a user by login."""
    text = owner.strip().lower()
    if _EMAIL.match(text) and not text.startswith("@"):
        return text
    return text.removeprefix("@").rpartition(":")[2].rpartition("/")[2]


def _owns(service: Service, owner: str) -> bool:
    key = _owner_key(owner)
    return any(_owner_key(o) == key for o in service.owners)


def _same_repo(a: str | None, b: str) -> bool:
    return a is not None and repo_matches(a, b) and repo_matches(b, a)
