"""The one place where sender text is made safe to show or to hand to an agent.

Senders control alert titles, annotations and descriptions. Before any of it reaches a terminal
it must lose every escape sequence (CSI, OSC, DCS/SOS/PM/APC and two-character escapes), C0 and
C1 controls, DEL, bidi overrides, zero-width and Unicode tag characters. Rich markup is not
handled here: the dashboard renders the result as plain ``Text``, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

# ESC [ ... final byte (CSI); ESC ] ... BEL or ST (OSC); ESC P/X/^/_ ... ST (DCS, SOS, PM, APC);
# an unterminated string sequence runs to the end (it would otherwise swallow the screen);
# then any other two-character escape.
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?
    | \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c|$)
    | \x9b[0-?]*[ -/]*[@-~]?
    | [\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)
    | \x1b[ -/]*[0-~]?
    """,
    re.VERBOSE,
)
_INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and newline), DEL, C1
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"  # zero-width, bidi marks/overrides, invisible ops
    "\U000e0000-\U000e007f"  # tag characters (hidden instructions)
    "]"
)

ELLIPSIS = "…"


def clean(text: object, limit: int | None = None) -> str:
    """Strip escape sequences and invisible/control characters; keep newlines and tabs."""
    value = _ESCAPES.sub("", str(text) if text is not None else "")
    value = _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    # Normalise last: removing a zero-width character can leave a combining pair to compose,
    # and clean() must give the same result when run again.
    return cap(unicodedata.normalize("NFC", value), limit)


def display_text(text: object, limit: int | None = 300) -> str:
    """One line for a table cell or a list: newlines shown as ``⏎``, tabs as spaces."""
    value = clean(text).replace("\t", " ").replace("\n", " ⏎ ")
    return cap(value, limit)


def cap(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + ELLIPSIS


_IDENTIFIER_UNSAFE = re.compile(r"[^A-Za-z0-9._/@:+-]")


def identifier(text: object, limit: int = 80) -> str:
    """A name (service, repo, file path) fit to stand outside an untrusted-data fence.

    Anything but a conservative character set becomes ``_``, so a service label cannot
    smuggle Markdown, headings or instructions into the structured part of a context document.
    """
    return cap(_IDENTIFIER_UNSAFE.sub("_", clean(text)), limit) or "_"
