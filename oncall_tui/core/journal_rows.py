"""Journal rows as the replay holds them: the body kept as the JSON text the journal stored.

Parsing is the dominant cost of reading a storm, so rows are parsed only when something needs
their content (the fold, a summary), and the bulk kinds are read without ``json.loads`` where the
journal's own compact form allows it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from oncall_tui.core.journal import (
    SIGNAL_HEAD,
    SIGNAL_JSON,
    JournalBody,
    JournalEntry,
    Kind,
    SignalAttached,
    SignalRecorded,
)
from oncall_tui.core.models import Signal

_ATTACH_HEAD = '{"incident_id":"'
_ATTACH_SEP = '","signal_id":'


def attachment(body: str) -> tuple[str, int]:
    """Incident and signal of an attachment body.

    A storm is half attachments, so the form the journal writes (compact, sorted keys, two
    fields of ours and no sender text) is read by slicing, at a fraction of the cost of
    ``json.loads``; any other spelling goes through JSON.
    """
    compact = _compact_attachment(body)
    if compact is not None:
        return compact
    data = json.loads(body)
    return str(data["incident_id"]), int(data["signal_id"])


def _compact_attachment(body: str) -> tuple[str, int] | None:
    sep = body.find(_ATTACH_SEP)
    if body.startswith(_ATTACH_HEAD) and body.endswith("}") and sep > 0:
        incident, digits = body[len(_ATTACH_HEAD) : sep], body[sep + len(_ATTACH_SEP) : -1]
        if digits.isascii() and digits.isdigit() and '"' not in incident and "\\" not in incident:
            return incident, int(digits)
    return None


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
        typed = self._typed()
        if typed is not None:  # its JSON is parsed only if asked for (JournalEntry.text)
            return JournalEntry(self.seq, self.ts, self.actor, self.kind, None, typed, self.body)
        return JournalEntry(self.seq, self.ts, self.actor, self.kind, json.loads(self.body))

    def _typed(self) -> JournalBody | None:
        """The body of a row of the two kinds a storm is made of, in the journal's own spelling,
        read from its text; None for any other row.

        Performance: ``json.loads`` and validating what it made was most of the cost of a
        row. pydantic reads a recorded signal from its text in half the time (7 against 14.5
        µs); an attachment is two fields of ours, read by slicing.
        """
        if self.kind == Kind.INCIDENT_SIGNAL_ATTACHED:
            compact = _compact_attachment(self.body)
            return SignalAttached(*compact) if compact is not None else None
        if self.kind != Kind.SIGNAL_RECORDED or not self.body.startswith(SIGNAL_HEAD):
            return None
        try:
            return SignalRecorded(Signal.model_validate_json(self.body[SIGNAL_JSON]))
        except ValueError:  # another spelling (more keys), or what only json.loads reads
            return None
