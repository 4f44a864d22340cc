"""Which files a shell command would write: the reading the edit guard relies on for shell tools.

Command shapes follow each tool's own manual:
- Bash redirections, heredocs, quoting, ``( )`` and ``-c``:
  https://www.gnu.org/software/bash/manual/bash.html#Redirections and #Quoting
- GNU sed ``-i[SUFFIX]`` / ``--in-place``: https://www.gnu.org/software/sed/manual/sed.html#Command_002dLine-Options
  (BSD sed's ``-i ''``: https://man.freebsd.org/cgi/man.cgi?query=sed)
- perl ``-i[extension]``, ``-p``, ``-e``: https://perldoc.perl.org/perlrun
- coreutils mv/cp/rm/touch/tee/install/ln: https://www.gnu.org/software/coreutils/manual/coreutils.html
- git checkout/restore/rm/mv/apply: https://git-scm.com/docs/git-checkout, https://git-scm.com/docs/git-restore,
  https://git-scm.com/docs/git-apply
- GNU patch ``-p1 < FILE``: https://www.gnu.org/software/diffutils/manual/html_node/patch-Options.html

A typical command reads in a few tens of microseconds (pure string work, no imports beyond
stdlib), far under the hook's budget; the suite checks behaviour only, no timings.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.agents.hook.shell_writes import ShellWrites, shell_write_targets

CERTAIN = False
UNCERTAIN = True

# (command, paths written, uncertain)
CASES: list[tuple[str, tuple[str, ...], bool]] = [
    # Reading commands write nothing, with certainty.
    ("cat src/payments/breaker.py", (), CERTAIN),
    ("grep -rn timeout src/payments", (), CERTAIN),
    ("ls -la src/", (), CERTAIN),
    ("git diff src/payments/breaker.py", (), CERTAIN),
    ("pytest -q tests/unit/test_breaker.py", (), CERTAIN),
    (".venv/bin/pytest -q tests/", (), CERTAIN),
    ("python -m pytest -x tests/", (), CERTAIN),
    ("git status && git log --oneline -5", (), CERTAIN),
    # False-positive traps: operators inside quotes, descriptor duplication, /dev/null.
    ('echo "a > b"', (), CERTAIN),
    ("grep '>' file.txt", (), CERTAIN),
    ("grep -c \\> notes.md", (), CERTAIN),
    ("echo 'x' \"&& rm -rf /\"", (), CERTAIN),
    ("make test 2>&1 | grep FAIL", (), UNCERTAIN),
    ("ls missing 2>/dev/null", (), CERTAIN),
    ("echo oops >&2", (), CERTAIN),
    ("ls >&-", (), CERTAIN),
    ("cat <<'EOF'\nrm -rf src > out\nEOF", (), CERTAIN),
    ("echo done # > comment.txt", (), CERTAIN),
    # Redirections write their target.
    ("git diff > /tmp/x.patch", ("/tmp/x.patch",), CERTAIN),
    ("echo hi > out.txt", ("out.txt",), CERTAIN),
    ("echo hi >> log/app.log", ("log/app.log",), CERTAIN),
    ("echo hi>out.txt", ("out.txt",), CERTAIN),
    ("pytest &> run.log", ("run.log",), CERTAIN),
    ("pytest 2> err.log", ("err.log",), CERTAIN),
    ("echo x >| forced.txt", ("forced.txt",), CERTAIN),
    ("echo x >&copy.txt", ("copy.txt",), CERTAIN),
    ('echo x > "with space.txt"', ("with space.txt",), CERTAIN),
    ("cat > src/app.py <<EOF\nprint('hi')\nEOF", ("src/app.py",), CERTAIN),
    ("cat <<-EOF > conf.ini\n\t[a]\n\tEOF\necho ok", ("conf.ini",), CERTAIN),
    # tee
    ("echo x | tee a.txt b.txt", ("a.txt", "b.txt"), CERTAIN),
    ("echo x | sudo tee -a /etc/hosts > /dev/null", ("/etc/hosts",), CERTAIN),
    # sed and perl in place: the files, never the script.
    ("sed -i 's/a/b/' src/x.py", ("src/x.py",), CERTAIN),
    ("sed -i.bak -e 's/a/b/' -e 's/c/d/' a.py b.py", ("a.py", "b.py"), CERTAIN),
    ("sed --in-place=.orig 's/x/y/' f.py", ("f.py",), CERTAIN),
    ("sed -i '' 's/x/y/' mac.py", ("mac.py",), CERTAIN),
    ("sed -n 's/x/y/p' f.py", (), CERTAIN),
    ("sed -Ei 's/(a)/b/' f.py", ("f.py",), CERTAIN),
    ("perl -pi -e 's/foo/bar/g' src/a.pl src/b.pl", ("src/a.pl", "src/b.pl"), CERTAIN),
    ("perl -i.bak -pe 's/x/y/' conf.txt", ("conf.txt",), CERTAIN),
    # Moving, copying, deleting, creating.
    ("mv old.py new.py", ("old.py", "new.py"), CERTAIN),
    ("mv -t dest/ a.py b.py", ("dest/", "a.py", "b.py"), CERTAIN),
    ("cp -r src/payments /tmp/backup", ("/tmp/backup",), CERTAIN),
    ("cp -t out/ a b", ("out/",), CERTAIN),
    ("rm -rf build/ dist", ("build/", "dist"), CERTAIN),
    ("rm -- -weird-name", ("-weird-name",), CERTAIN),
    ("touch -d yesterday a.txt", ("a.txt",), CERTAIN),
    ("truncate -s 0 big.log", ("big.log",), CERTAIN),
    ("install -m 755 tool bin/tool", ("bin/tool",), CERTAIN),
    ("ln -sf ../shared/conf.yml conf.yml", ("conf.yml",), CERTAIN),
    ("chmod +x scripts/run.sh", ("scripts/run.sh",), CERTAIN),
    ("mkdir -p a/b/c", ("a/b/c",), CERTAIN),
    ("dd if=/dev/zero of=disk.img bs=1M count=1", ("disk.img",), CERTAIN),
    ("find . -name '*.pyc' -delete", (".",), CERTAIN),
    ("sort -o sorted.txt input.txt", ("sorted.txt",), CERTAIN),
    # git
    ("git checkout HEAD~1 -- src/payments/breaker.py", ("src/payments/breaker.py",), CERTAIN),
    ("git checkout -- a.py b.py", ("a.py", "b.py"), CERTAIN),
    ("git checkout -b feature/x", (), CERTAIN),
    ("git checkout main", ("main",), UNCERTAIN),
    ("git restore src/a.py", ("src/a.py",), CERTAIN),
    ("git restore --source=HEAD~2 src/a.py", ("src/a.py",), CERTAIN),
    ("git restore --staged src/a.py", (), CERTAIN),
    ("git rm -r old/", ("old/",), CERTAIN),
    ("git rm --cached secret.env", (), CERTAIN),
    ("git mv a.py lib/a.py", ("a.py", "lib/a.py"), CERTAIN),
    ("git -C services/pay checkout -- breaker.py", ("services/pay/breaker.py",), CERTAIN),
    ("git reset --hard", (), UNCERTAIN),
    ("git stash", (), UNCERTAIN),
    ("git apply --check fix.patch", (), CERTAIN),
    ("git apply fix.patch", (), UNCERTAIN),
    ("patch -p1 < fix.patch", (), UNCERTAIN),
    (
        "git apply <<'EOF'\ndiff --git a/src/p.py b/src/p.py\n--- a/src/p.py\n+++ b/src/p.py\n"
        "@@ -1 +1 @@\n-a\n+b\nEOF",
        ("src/p.py",),
        CERTAIN,
    ),
    (
        "patch -p1 <<EOF\n--- a/lib/q.py\n+++ b/lib/q.py\n@@ -1 +1 @@\n-x\n+y\nEOF",
        ("lib/q.py",),
        CERTAIN,
    ),
    (
        "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: src/app.py\n@@\n-a\n+b\n"
        "*** End Patch\nEOF",
        ("src/app.py",),
        CERTAIN,
    ),
    # cd, prefixes, wrappers and recursion.
    ("cd services/pay && sed -i 's/3/5/' retry.py", ("services/pay/retry.py",), CERTAIN),
    ("cd services && cd pay; rm ../common/x.py", ("services/common/x.py",), CERTAIN),
    ("cd /srv/app && rm -f cache.db", ("/srv/app/cache.db",), CERTAIN),
    ("(cd sub && rm a.txt); rm b.txt", ("sub/a.txt", "b.txt"), CERTAIN),
    ("(cd sub && make) > build.log", ("build.log",), UNCERTAIN),
    ("LC_ALL=C FOO=bar sed -i s/a/b/ f.py", ("f.py",), CERTAIN),
    ("FOO=1", (), CERTAIN),
    ("sudo -u deploy rm /srv/app/pid", ("/srv/app/pid",), CERTAIN),
    ("env -i PATH=/bin rm x.txt", ("x.txt",), CERTAIN),
    ("command rm y.txt", ("y.txt",), CERTAIN),
    ("nohup timeout 5 tee out.log < in.txt", ("out.log",), CERTAIN),
    ("bash -c 'sed -i s/a/b/ x.py && echo ok > done.txt'", ("x.py", "done.txt"), CERTAIN),
    ('sh -ec "cd lib && rm old.py"', ("lib/old.py",), CERTAIN),
    ("bash -c \"bash -c 'rm deep.txt'\"", ("deep.txt",), CERTAIN),
    ("bash <<'EOF'\nrm -f inner.txt\nEOF", ("inner.txt",), CERTAIN),
    ("if true; then rm a.txt; fi", ("a.txt",), CERTAIN),
    ("{ echo a; echo b; } > both.txt", ("both.txt",), CERTAIN),
    ('for f in a.py b.py; do rm "$f"; done', ("$f",), UNCERTAIN),
    ("find . -name '*.py' | xargs sed -i s/a/b/", (), UNCERTAIN),
    # Interpreters: inline code that opens for writing is uncertain, reading code is not.
    ("python -c \"open('src/x.py', 'w').write('')\"", (), UNCERTAIN),
    ("python3 -c 'print(open(\"README.md\").read())'", (), CERTAIN),
    ("node -e \"require('fs').writeFileSync('a.js', '')\"", (), UNCERTAIN),
    ("python scripts/migrate.py src/payments", (), UNCERTAIN),
    (
        "python - <<'EOF'\nfrom pathlib import Path\nPath('a.txt').write_text('x')\nEOF",
        (),
        UNCERTAIN,
    ),
    # What we do not model is uncertain.
    ("rm $(git ls-files -m)", ("$(git ls-files -m)",), UNCERTAIN),
    ("echo `date` > stamp.txt", ("stamp.txt",), UNCERTAIN),
    ('eval "rm a.txt"', (), UNCERTAIN),
    ("f() { rm x.txt; }; f", ("x.txt",), UNCERTAIN),
    ("echo 'unbalanced", (), UNCERTAIN),
    ('rm "$TARGET"', ("$TARGET",), UNCERTAIN),
    ("make build", (), UNCERTAIN),
    ("./deploy.sh --dry-run", (), UNCERTAIN),
    ("cat <<EOF > never-closed.txt\nhello", ("never-closed.txt",), UNCERTAIN),
]


@pytest.mark.parametrize(("command", "paths", "uncertain"), CASES, ids=[c[0] for c in CASES])
def test_what_a_command_writes(command: str, paths: tuple[str, ...], uncertain: bool) -> None:
    found = shell_write_targets(command)
    assert found.paths == paths
    assert found.uncertain is uncertain


def test_every_written_path_is_also_mentioned() -> None:
    for command, _, _ in CASES:
        found = shell_write_targets(command)
        assert set(found.paths) <= set(found.mentioned), command


@pytest.mark.parametrize(
    ("command", "mentioned"),
    [
        ("python scripts/migrate.py src/payments", {"scripts/migrate.py", "src/payments"}),
        ("python -c \"open('src/x.py', 'w')\"", {"src/x.py"}),
        ("make -C services/pay install", {"services/pay"}),
        ("git apply fixes/retry.patch", {"fixes/retry.patch"}),
        ("patch -p1 < fixes/retry.patch", {"fixes/retry.patch"}),
        ("cd services && ./tool pay/breaker.py", {"services", "services/pay/breaker.py"}),
        ('eval "sed -i s/a/b/ src/pay.py"', {"src/pay.py"}),
    ],
)
def test_an_uncertain_reading_mentions_the_paths_it_saw(command: str, mentioned: set[str]) -> None:
    found = shell_write_targets(command)
    assert found.uncertain
    assert mentioned <= set(found.mentioned)


def test_urls_and_options_are_not_mentioned_as_paths() -> None:
    found = shell_write_targets("curl -s https://example.com/a/b --retry 3")
    assert not any("://" in m or m.startswith("-") for m in found.mentioned)


def test_the_answer_is_frozen_and_hashable() -> None:
    found = shell_write_targets("rm a.txt")
    assert found == ShellWrites(("a.txt",), False, ("a.txt",))
    assert hash(found) == hash(ShellWrites(("a.txt",), False, ("a.txt",)))


def test_the_reading_never_raises_on_random_text() -> None:
    alphabet = "ab /.-'\"\\$`(){}[]<>|&;#=*~\n\t01EOF"
    pieces = ["<<EOF\n", "bash -c ", "sed -i ", "$(", "2>&1", "cd ", "git checkout -- ", "'", '"']
    rng = random.Random(20261202)
    for _ in range(3000):
        parts = [
            rng.choice(pieces) if rng.random() < 0.2 else rng.choice(alphabet)
            for _ in range(rng.randint(0, 60))
        ]
        found = shell_write_targets("".join(parts))
        assert isinstance(found, ShellWrites)
        assert all(isinstance(p, str) for p in found.paths + found.mentioned)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab /.-'\"\\$`(){}<>|&;#=\n\t2EOFci")), max_size=80))
def test_the_reading_never_raises_on_generated_text(command: str) -> None:
    found = shell_write_targets(command)
    assert set(found.paths) <= set(found.mentioned)


def test_deep_nesting_gives_up_as_uncertain() -> None:
    command = "rm x.txt"
    for _ in range(12):
        command = "bash -c " + repr(command)
    assert shell_write_targets(command).uncertain
