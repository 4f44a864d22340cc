"""Dashboard themes: TOML files turned into Textual themes, and the remembered choice.

Themes are files (``themes/*.toml`` shipped with the repo, more in the user's config dir) so an
engineer can adapt colours to their terminal, or to 3 a.m., without touching Python. A mistake in
such a file must cost a toast, never the dashboard in the middle of an incident, so loading never
raises: each bad file becomes one line in :attr:`ThemeLoadResult.failures` for the app to show.

Widgets colour severities and lifecycle states through semantic variables (``$sev-critical``,
``$push-pending``...). Textual refuses CSS that names an undefined variable, so
:func:`semantic_defaults` derives all of them from a theme's base colours; the app returns it from
``App.get_theme_variable_defaults()``, which lets any theme (built-in, user, or one that only sets
``primary``) render.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from textual.color import Color, ColorParseError
from textual.design import ColorSystem
from textual.theme import Theme

import oncall_tui
from oncall_tui import paths
from oncall_tui.agents.export.atomic import write_atomic
from oncall_tui.core.validation_text import describe_problem, location

SEMANTIC_VARIABLES: tuple[str, ...] = (
    "sev-critical",
    "sev-error",
    "sev-warning",
    "sev-info",
    "state-triggered",
    "state-acknowledged",
    "state-mitigated",
    "state-resolved",
    "push-pending",
    "push-approved",
    "push-delivered",
    "push-acknowledged",
    "push-rejected",
    "push-superseded",
    "push-expired",
    "session-active",
    "session-idle",
    "session-ended",
)
"""The variables our TCSS may use beyond Textual's own; one per severity and lifecycle state."""


def _valid_colour(value: str) -> str:
    """Reject what Textual could not parse, now rather than when the theme is switched to."""
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(str(exc)) from None
    return value


@cache
def _overridable_variables() -> frozenset[str]:
    """Our names plus every variable Textual derives from a theme, which a theme may replace."""
    return frozenset((*SEMANTIC_VARIABLES, *ColorSystem(primary="#000000").generate()))


def _known_variable(name: str) -> str:
    """A misspelt variable would be silently ignored; naming it in the failure is kinder."""
    if name not in _overridable_variables():
        raise ValueError(f"unknown variable {name!r}")
    return name


_Colour = Annotated[str, AfterValidator(_valid_colour)]
_VariableName = Annotated[str, AfterValidator(_known_variable)]


class ThemeFile(BaseModel):
    """One theme file as written on disk, checked field by field before Textual sees it.

    Colours are optional except ``primary``, as in Textual, which derives the rest. Unknown keys
    are refused so a typo (``backgroud``) is reported instead of quietly falling back.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    """The name the palette shows and ``ui.toml`` remembers; ours are prefixed ``oncall-``."""
    dark: bool = True
    """Whether Textual should derive shades for a dark background."""
    primary: _Colour
    secondary: _Colour | None = None
    accent: _Colour | None = None
    warning: _Colour | None = None
    error: _Colour | None = None
    success: _Colour | None = None
    foreground: _Colour | None = None
    background: _Colour | None = None
    surface: _Colour | None = None
    panel: _Colour | None = None
    variables: dict[_VariableName, _Colour] = Field(default_factory=dict)
    """Semantic colours (:data:`SEMANTIC_VARIABLES`) and overrides of Textual's own colours."""

    def to_textual_theme(self) -> Theme:
        """The Textual theme to pass to ``App.register_theme``."""
        return Theme(**self.model_dump())


class ThemeLoadResult(NamedTuple):
    """Themes that loaded, and the files that did not, each with a one-line reason."""

    themes: dict[str, Theme]
    failures: list[tuple[Path, str]]


class _BadThemeFile(Exception):
    """Carries the one-line reason from the reader to :func:`load_themes`."""


def _describe(error: ErrorDetails) -> str:
    field = location(error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown field"
    return f"{field}: {describe_problem(error)}"


def _read_theme_file(path: Path) -> ThemeFile:
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _BadThemeFile(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _BadThemeFile(f"{path}: invalid TOML: {exc}") from None
    try:
        return ThemeFile.model_validate(data)
    except ValidationError as exc:
        raise _BadThemeFile(f"{path}: " + "; ".join(map(_describe, exc.errors()))) from None


def load_themes(*dirs: Path) -> ThemeLoadResult:
    """Read every ``*.toml`` in ``dirs``, never raising, so one bad file costs only itself.

    Later directories win, so a user theme named like a shipped one replaces it. Two files with
    the same name in one directory are a mistake, reported for the second file. A directory that
    does not exist is skipped: the user themes directory is optional.
    """
    themes: dict[str, Theme] = {}
    failures: list[tuple[Path, str]] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        defined_here: dict[str, Path] = {}
        for path in sorted(directory.glob("*.toml")):
            try:
                theme_file = _read_theme_file(path)
            except _BadThemeFile as exc:
                failures.append((path, str(exc)))
                continue
            name = theme_file.name
            if name in defined_here:
                reason = f"{path}: name: {name!r} is already defined by {defined_here[name].name}"
                failures.append((path, reason))
                continue
            defined_here[name] = path
            themes[name] = theme_file.to_textual_theme()
    return ThemeLoadResult(themes, failures)


def _mix(base: str, other: str, amount: float) -> str:
    """``base`` moved ``amount`` of the way towards ``other``.

    ANSI colours are whatever the terminal's palette says, so they cannot be mixed; ``base``
    is kept as it is and the terminal's own colour is used.
    """
    first, second = Color.parse(base), Color.parse(other)
    if first.ansi is not None or second.ansi is not None:
        return base
    return first.blend(second, amount).hex


def semantic_defaults(theme: Theme) -> dict[str, str]:
    """A value for every semantic variable, derived from ``theme``'s base colours.

    For ``App.get_theme_variable_defaults()``: a theme's own ``variables`` override these, so
    a user theme may set only the few colours it cares about. Derived from Textual's generated
    colour system (not the raw fields) so themes that leave ``error`` or ``background`` unset
    get the same fallbacks Textual gives them. States share a hue with the severity or outcome
    they signal; finished or replaced items fade towards the background.
    """
    colours = theme.to_color_system().generate()
    error, warning, success = colours["error"], colours["warning"], colours["success"]
    primary, accent = colours["primary"], colours["accent"]
    faded = _mix(colours["foreground"], colours["background"], 0.4)
    gone = _mix(colours["foreground"], colours["background"], 0.6)
    return {
        "sev-critical": error,
        "sev-error": _mix(error, warning, 0.5),
        "sev-warning": warning,
        "sev-info": primary,
        "state-triggered": error,
        "state-acknowledged": warning,
        "state-mitigated": _mix(warning, success, 0.5),
        "state-resolved": success,
        "push-pending": warning,
        "push-approved": primary,
        "push-delivered": accent,
        "push-acknowledged": success,
        "push-rejected": error,
        "push-superseded": faded,
        "push-expired": gone,
        "session-active": success,
        "session-idle": faded,
        "session-ended": gone,
    }


def shipped_themes_dir() -> Path:
    """The repository's ``themes/`` folder, next to the package in a source checkout."""
    return Path(oncall_tui.__file__).parent.parent / "themes"


def user_themes_dir() -> Path:
    """Where a user's own themes live: ``$XDG_CONFIG_HOME/oncall-tui/themes``."""
    return paths.config_dir() / "themes"


def ui_state_path() -> Path:
    """The default file for remembered UI choices: ``$XDG_STATE_HOME/oncall-tui/ui.toml``.

    State, not config: the app rewrites it, and losing it costs nothing but the choice.
    """
    return paths.state_dir() / "ui.toml"


def remembered_theme(path: Path) -> str | None:
    """The theme name last saved in ``path``, or ``None`` if there is none to trust.

    A missing, unreadable or corrupt file means "no choice yet": a lost preference must not
    stop the dashboard from starting. The name may no longer be registered; the caller checks.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = data.get("theme")
    return name if isinstance(name, str) and name else None


def _toml_string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML additionally forbids a raw
    # DEL, which JSON leaves alone.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def remember_theme(path: Path, name: str) -> None:
    """Save ``name`` as the chosen theme, atomically so a crash never leaves half a file.

    The file holds only the theme for now, so it is rewritten whole.

    Raises:
        OSError: the file could not be written; the app should say so and carry on.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, f"theme = {_toml_string(name)}\n".encode())
