"""The one place where sender text is made safe to show or to hand to an agent.

Senders control alert titles, annotations and descriptions. Before any of it reaches a terminal
it must lose every escape sequence (CSI, OSC, DCS/SOS/PM/APC and two-character escapes), C0 and
C1 controls, DEL, and every character that is drawn as nothing: the whole of Unicode's format
category (Cf: bidi controls, zero-width characters, soft hyphen, tag characters...) and the rest
of its Default_Ignorable_Code_Point set (variation selectors, Hangul fillers, the combining
grapheme joiner...). What is left looks like what it says. Emoji lose their joiners and
presentation selectors (a family emoji shows as its members): a fair price for alert text. Rich
markup is not handled here: the dashboard renders the result as plain ``Text``, never as markup.
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
    "\u2028\u2029"  # line and paragraph separators: a line break no terminal shows as one
    # Format characters (general category Cf), as of Unicode 15.1: soft hyphen, Arabic number
    # signs and letter mark, Mongolian vowel separator, zero-width characters, bidi marks,
    # overrides and isolates, invisible operators, BOM, interlinear annotations, Egyptian
    # hieroglyph and shorthand format controls, musical formatting, tag characters.
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    # The rest of Default_Ignorable_Code_Point: characters a renderer draws as nothing, so text
    # can differ from what the reader sees (combining grapheme joiner, Hangul fillers, Khmer
    # inherent vowels, Mongolian free variation selectors, variation selectors, reserved ranges).
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufff8"
    "\U000e0000-\U000e0fff"
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
