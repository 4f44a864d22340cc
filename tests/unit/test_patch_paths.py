"""Paths named by a patch: Codex ``apply_patch`` envelopes and unified diffs.

The envelope's shape is the one Codex documents for the model and parses in its
``codex-apply-patch`` crate: ``*** Begin Patch`` / ``*** End Patch`` around file sections headed
``*** Add File: P``, ``*** Delete File: P`` or ``*** Update File: P`` (optionally followed by
``*** Move to: P``), hunks introduced by ``@@``, and a lenient parser that accepts whitespace
around the markers and a heredoc around the whole.
Sources: https://github.com/openai/codex/blob/main/codex-rs/apply-patch/apply_patch_tool_instructions.md
and https://github.com/openai/codex/blob/main/codex-rs/apply-patch/src/parser.rs
(fixtures such as tests/fixtures/scenarios/004_move_to_new_directory and
018_whitespace_padded_patch_markers).
Unified diffs as ``git diff`` prints them: https://git-scm.com/docs/git-diff#_generating_patch_text_with_p
"""

from __future__ import annotations

import random

import pytest

from oncall_tui.agents.hook.patch_paths import patch_paths

ENVELOPE_ALL_OPERATIONS = """*** Begin Patch
*** Add File: docs/greeting.txt
+Good morning
*** Update File: services/pay/client.py
*** Move to: services/pay/http_client.py
@@ def charge():
-    timeout = 3
+    timeout = 5
*** Delete File: services/pay/legacy.py
*** End Patch
"""

ENVELOPE_SEVERAL_HUNKS = """*** Begin Patch
*** Update File: services/pay/breaker.py
@@ class CircuitBreaker
@@     def trip(self):
     failures = self.failures
-    if failures > 5:
+    if failures > 50:
         self.open()
@@ def reset():
-    pass
+    self.failures = 0
*** End of File
*** Update File: services/pay/retry.py
@@
-MAX_RETRIES = 3
+MAX_RETRIES = 10
*** End Patch
"""

# Whitespace padding on both markers (the trailing space is spelled out to survive editors).
ENVELOPE_PADDED_AND_WRAPPED = (
    "apply_patch <<'EOF'\n"
    " *** Begin Patch\n"
    "*** Update File: lib/padded.py\n"
    "@@\n"
    "-one\n"
    "+two\n"
    "*** End Patch \n"
    "EOF\n"
)

GIT_DIFF = """diff --git a/services/pay/breaker.py b/services/pay/breaker.py
index 3b18e51..a9c2f07 100644
--- a/services/pay/breaker.py
+++ b/services/pay/breaker.py
@@ -10,3 +10,3 @@ class CircuitBreaker:
     def trip(self):
-        if self.failures > 5:
+        if self.failures > 50:
             self.open()
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# New
+--- a/not/a/header.py
diff --git a/old/gone.py b/old/gone.py
deleted file mode 100644
--- a/old/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-print("bye")
"""

PLAIN_DIFF_U = """--- src/orig.c\t2026-11-30 10:00:00.000000000 +0000
+++ src/orig.c\t2026-12-01 10:00:00.000000000 +0000
@@ -1,2 +1,2 @@
-int x = 1;
+int x = 2;
 int y = 3;
"""

RENAME_DIFF = """diff --git a/old/name.py b/new/name.py
similarity index 90%
rename from old/name.py
rename to new/name.py
--- a/old/name.py
+++ b/new/name.py
@@ -1 +1 @@
-a
+b
"""


@pytest.mark.parametrize(
    ("patch", "paths"),
    [
        (
            ENVELOPE_ALL_OPERATIONS,
            [
                "docs/greeting.txt",
                "services/pay/client.py",
                "services/pay/http_client.py",
                "services/pay/legacy.py",
            ],
        ),
        (ENVELOPE_SEVERAL_HUNKS, ["services/pay/breaker.py", "services/pay/retry.py"]),
        (ENVELOPE_PADDED_AND_WRAPPED, ["lib/padded.py"]),
        (
            "*** Begin Patch\n*** Add File: a.txt\n+x\n*** Add File: a.txt\n+y\n*** End Patch\n",
            ["a.txt"],
        ),
        ("*** Begin Patch\n*** Delete File: obsolete.cfg\n*** End Patch", ["obsolete.cfg"]),
        (
            "*** Begin Patch\n*** Update File:   spaced name.py  \n@@\n-a\n+b\n*** End Patch",
            ["spaced name.py"],
        ),
        ("*** Begin Patch\n*** Add File: \n*** End Patch\n", []),
        (GIT_DIFF, ["services/pay/breaker.py", "docs/new.md", "old/gone.py"]),
        (PLAIN_DIFF_U, ["src/orig.c"]),
        (RENAME_DIFF, ["old/name.py", "new/name.py"]),
        ('--- "a/sp\\"ace.py"\n+++ "b/sp\\"ace.py"\n@@ -1 +1 @@\n-a\n+b\n', ['sp"ace.py']),
        ("", []),
        ("just some text\nwith no headers\n", []),
    ],
    ids=[
        "envelope-all-operations",
        "envelope-several-hunks",
        "envelope-padded-heredoc",
        "envelope-duplicates",
        "envelope-delete-only",
        "envelope-path-with-spaces",
        "envelope-empty-path",
        "git-diff",
        "diff-u-timestamps",
        "git-rename",
        "git-quoted-name",
        "empty",
        "no-headers",
    ],
)
def test_the_paths_a_patch_names(patch: str, paths: list[str]) -> None:
    assert patch_paths(patch) == paths


def test_hunk_content_that_looks_like_a_header_is_content() -> None:
    assert "not/a/header.py" not in patch_paths(GIT_DIFF)


def test_patch_paths_never_raises_on_random_text() -> None:
    pieces = ["*** Update File: ", "--- a/", "+++ b/", "@@ -1,2 +3 @@", "diff --git ", "\n", '"']
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(
            rng.choice(pieces) if rng.random() < 0.3 else rng.choice("ab/.-+ @,\t\\\n1")
            for _ in range(rng.randint(0, 80))
        )
        assert all(isinstance(path, str) for path in patch_paths(text))
