"""Fitting a one-line header into the width there is, by importance rather than by position.

Each part has a long and a short form and a rank. When the line is too wide, parts are first
shortened (least important first), then dropped (least important first); parts marked ``keep``
are dropped only once every other part is gone. A part is never cut: what is shown is whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style

SEPARATOR = " · "


@dataclass(frozen=True)
class Part:
    long: str
    short: str
    rank: int
    """Higher is more important: kept whole for longer, dropped later."""
    style: Style | str = ""
    keep: bool = False
    """A fact the header always showed: shortened when needed, dropped only as a last resort."""


def fit(parts: Sequence[Part], width: int) -> list[tuple[Part, str]]:
    """The parts to show, in their order, each with the form chosen, fitting ``width`` cells."""
    chosen = {index: part.long for index, part in enumerate(parts)}

    def too_wide() -> bool:
        texts = chosen.values()
        return sum(map(cell_len, texts)) + cell_len(SEPARATOR) * (len(chosen) - 1) > width

    # Least important first; among equals the later part gives way first.
    order = sorted(range(len(parts)), key=lambda i: (parts[i].rank, -i))
    for index in order:
        if not too_wide():
            break
        chosen[index] = parts[index].short
    for last_resort in (False, True):
        for index in order:
            if not too_wide():
                break
            if index in chosen and (last_resort or not parts[index].keep):
                del chosen[index]
    return [(parts[index], chosen[index]) for index in sorted(chosen)]
