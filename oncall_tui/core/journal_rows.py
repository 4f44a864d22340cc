"""Journal rows as the replay holds them: the body kept as the JSON text the journal stored.

Parsing is the dominant cost of reading a storm, so rows are parsed only when something needs
their content (the fold, a summary), and the bulk kinds are read without ``json.loads`` where the
journal's own compact form allows it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from oncall_tui.core.journal import JournalEntry

_ATTACH_HEAD = '{"incident_id":"'
_ATTACH_SEP = '","signal_id":'


def attachment(body: str) -> tuple[str, int]:
    """Incident and signal of an attachment body.

    A storm is half attachments, so the form the journal writes (compact, sorted keys, two
    fields of ours and no sender text) is read by slicing, at a fraction of the cost of
    ``json.loads``; any other spelling goes through JSON.
    """
    sep = body.find(_ATTACH_SEP)
    if body.startswith(_ATTACH_HEAD) and body.endswith("}") and sep > 0:
        incident, digits = body[len(_ATTACH_HEAD) : sep], body[sep + len(_ATTACH_SEP) : -1]
        if digits.isdigit() and '"' not in incident and "\\" not in incident:
            return incident, int(digits)
    data = json.loads(body)
    return str(data["incident_id"]), int(data["signal_id"])


class Row(NamedTuple):
    """A journal row with its body still JSON text (a tuple: a storm has 100,000 of them)."""

    seq: int
    ts: datetime
    actor: str
    kind: str
    body: str

    @classmethod
    def of(cls, entry: JournalEntry) -> Row:
        text = json.dumps(entry.body, separators=(",", ":"), sort_keys=True)
        return cls(entry.seq, entry.ts, entry.actor, entry.kind, text)

    def entry(self) -> JournalEntry:
        return JournalEntry(self.seq, self.ts, self.actor, self.kind, json.loads(self.body))
