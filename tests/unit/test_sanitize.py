"""Sender text made safe for terminals and agents."""

from __future__ import annotations

import unicodedata

import pytest

from oncall_tui.core.sanitize import clean, display_text, identifier

HOSTILE = [
    ("clear \x1b[2Jscreen", "clear screen"),
    ("home\x1b[H", "home"),
    ("title \x1b]0;pwned\x1b\\ end", "title  end"),
    ("clip \x1b]52;c;ZXZpbA==\x07 end", "clip  end"),
    ("link \x1b]8;;https://evil\x1b\\text\x1b]8;;\x1b\\", "link text"),
    ("dcs \x1bPq#0;2;0;0;0\x1b\\ end", "dcs  end"),
    ("apc \x1b_payload\x1b\\ end", "apc  end"),
    ("ask \x1b[6n", "ask "),
    ("reset \x1bc", "reset "),
    ("c1 csi \x9b2J", "c1 csi "),
    ("c1 osc \x9d0;t\x07", "c1 osc "),
    ("unterminated \x1b]0;swallow", "unterminated "),
    ("back\bspace", "backspace"),
    ("rtl \u202eevil", "rtl evil"),
    ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
    ("tag \U000e0069\U000e0067nore", "tag nore"),
    ("del\x7f", "del"),
]


@pytest.mark.parametrize(("raw", "expected"), HOSTILE)
def test_escapes_and_invisible_characters_are_removed(raw: str, expected: str) -> None:
    result = clean(raw)
    assert result == expected
    assert not any(ord(ch) < 0x20 and ch not in "\n\t" for ch in result)
    assert not any(0x7F <= ord(ch) <= 0x9F for ch in result)


def test_markup_is_left_for_plain_rendering() -> None:
    assert (
        clean("[bold red]RESOLVED[/] [link=https://x]y[/link]")
        == "[bold red]RESOLVED[/] [link=https://x]y[/link]"
    )


def test_carriage_return_cannot_overwrite_the_line() -> None:
    assert display_text("real\rfake") == "real ⏎ fake"


def test_display_text_is_one_capped_line() -> None:
    assert display_text("a\nb\tc") == "a ⏎ b c"
    assert display_text("x" * 1000, 10) == "x" * 9 + "…"
    assert len(display_text("y" * 100_000)) == 300


def test_wide_characters_survive() -> None:
    assert clean("支付 失败 🔥") == "支付 失败 🔥"


DRAWN_AS_NOTHING = {
    "\u061c": "Arabic letter mark",
    "\u00ad": "soft hyphen",
    "\u180e": "Mongolian vowel separator",
    "\u3164": "Hangul filler",
    "\u115f": "Hangul choseong filler",
    "\u1160": "Hangul jungseong filler",
    "\uffa0": "halfwidth Hangul filler",
    "\ufe00": "variation selector 1",
    "\ufe0f": "variation selector 16",
    "\U000e0100": "variation selector 17",
    "\U000e01ef": "variation selector 256",
    "\u034f": "combining grapheme joiner",
}


@pytest.mark.parametrize("char", list(DRAWN_AS_NOTHING), ids=list(DRAWN_AS_NOTHING.values()))
def test_characters_drawn_as_nothing_are_removed(char: str) -> None:
    assert clean(f"ig{char}nore{char}") == "ignore"
    assert identifier(f"pay{char}ments") == "payments"


def test_every_format_character_is_removed() -> None:
    """The rule is Unicode's format category as a whole, not a list that falls behind it."""
    survivors = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) == "Cf" and clean(f"a{chr(code)}b") != "ab"
    ]
    assert survivors == []


def test_emoji_lose_their_joiners_and_selectors_only() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean(f"on fire \U0001f525\ufe0f {family}") == (
        "on fire \U0001f525 \U0001f468\U0001f469\U0001f467"
    )
