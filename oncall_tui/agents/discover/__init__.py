"""Sessions found without a hook: read from the agents' own transcript files.

``facts``, ``claude_code`` and ``codex`` are pure (lines in, facts out); ``files`` reads the
transcripts, bounded; ``apply`` registers what it found; ``loop`` runs it inside ``serve``.
Only metadata is ever taken from a transcript (ids, working directory, branch, times, the
paths tools named): never message text, prompts, tool output or file contents.
"""
