"""Theme files, semantic variables, contrast and the remembered choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Static

from oncall_tui.core.agents import PushState, SessionState
from oncall_tui.core.models import IncidentState, Severity
from oncall_tui.tui.themes import (
    SEMANTIC_VARIABLES,
    ThemeFile,
    load_themes,
    remember_theme,
    remembered_theme,
    semantic_defaults,
    shipped_themes_dir,
    ui_state_path,
    user_themes_dir,
)

SHIPPED = ("oncall-dark", "oncall-light", "oncall-high-contrast", "oncall-night")
SEVERITIES = ("sev-critical", "sev-error", "sev-warning", "sev-info")
GOOD_THEME = 'name = "good"\nprimary = "#336699"\n'


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    parsed = Color.parse(colour)
    return 0.2126 * linear(parsed.r) + 0.7152 * linear(parsed.g) + 0.0722 * linear(parsed.b)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture(scope="module")
def shipped() -> dict[str, Theme]:
    result = load_themes(shipped_themes_dir())
    assert result.failures == []
    return result.themes


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# Shipped themes


def test_all_shipped_themes_load_as_textual_themes(shipped: dict[str, Theme]) -> None:
    assert sorted(shipped) == sorted(SHIPPED)
    for name, theme in shipped.items():
        assert isinstance(theme, Theme)
        assert theme.name == name
        assert theme.to_color_system().generate()["primary"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_theme_sets_every_colour_and_semantic_variable(
    shipped: dict[str, Theme], name: str
) -> None:
    theme = shipped[name]
    colours = ("primary", "secondary", "accent", "warning", "error", "success")
    grounds = ("foreground", "background", "surface", "panel")
    assert all(getattr(theme, field) for field in (*colours, *grounds))
    assert set(SEMANTIC_VARIABLES) <= set(theme.variables)


def test_semantic_variables_cover_every_domain_state() -> None:
    """A new severity or state in the domain must get a colour here too."""
    expected = {
        *(f"sev-{value}" for value in Severity),
        *(f"state-{value}" for value in IncidentState),
        *(f"push-{value}" for value in PushState),
        *(f"session-{value}" for value in SessionState),
    }
    assert set(SEMANTIC_VARIABLES) == expected
    assert len(SEMANTIC_VARIABLES) == len(expected)


@pytest.mark.parametrize("variable", ("foreground", *SEMANTIC_VARIABLES))
def test_high_contrast_meets_wcag_aa(shipped: dict[str, Theme], variable: str) -> None:
    theme = shipped["oncall-high-contrast"]
    colour = theme.foreground if variable == "foreground" else theme.variables[variable]
    assert colour is not None
    for ground in (theme.background, theme.surface, theme.panel):
        assert ground is not None
        assert contrast_ratio(colour, ground) >= 4.5, (variable, colour, ground)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#336699", "#336699") == pytest.approx(1)


def test_night_is_dim_and_warm_but_readable(shipped: dict[str, Theme]) -> None:
    theme = shipped["oncall-night"]
    fields = ("primary", "secondary", "accent", "warning", "error", "success", "foreground")
    colours = {field: getattr(theme, field) for field in fields} | theme.variables
    for variable, colour in colours.items():
        parsed = Color.parse(colour)
        assert relative_luminance(colour) <= 0.22, f"{variable} {colour} is too bright"
        assert parsed.r >= parsed.b, f"{variable} {colour} leans blue"
    assert theme.background is not None
    for variable in ("foreground", *SEVERITIES):
        assert contrast_ratio(colours[variable], theme.background) >= 4.5, variable


# Bad user themes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            GOOD_THEME.replace("#336699", "bluish"), "primary: failed to parse", id="bad-colour"
        ),
        pytest.param(GOOD_THEME + 'boost = "#000000"\n', "boost: unknown field", id="extra-field"),
        pytest.param('name = "x"\nprimary = "#336699\n', "invalid TOML", id="toml-syntax"),
        pytest.param('name = "x"\n', "primary: required, but missing", id="missing-primary"),
        pytest.param(GOOD_THEME + "dark = 3\n", "dark: expected true or false", id="bad-type"),
        pytest.param(
            GOOD_THEME + '[variables]\nsev-critical = "#12345"\n',
            "variables.sev-critical: failed to parse",
            id="bad-variable-colour",
        ),
        pytest.param(
            GOOD_THEME + '[variables]\nsev-critcal = "#ff0000"\n',
            "variables.sev-critcal: unknown variable",
            id="misspelt-variable",
        ),
        pytest.param(b"\xff\xfe", "cannot read", id="not-utf8"),
    ],
)
def test_bad_user_theme_is_reported_while_good_ones_load(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    write(tmp_path, "good.toml", GOOD_THEME)
    bad = tmp_path / "bad.toml"
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text, encoding="utf-8")

    result = load_themes(shipped_themes_dir(), tmp_path)

    assert set(result.themes) == {*SHIPPED, "good"}
    [(path, reason)] = result.failures
    assert path == bad
    assert reason.startswith(f"{bad}: ")
    assert expected in reason
    assert "\n" not in reason


def test_duplicate_name_in_one_directory_is_a_failure(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD_THEME)
    second = write(tmp_path, "b.toml", GOOD_THEME.replace("#336699", "#993366"))

    result = load_themes(tmp_path)

    assert result.themes["good"].primary == "#336699"
    assert result.failures == [(second, f"{second}: name: 'good' is already defined by a.toml")]


def test_later_directory_replaces_a_theme_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "mine.toml", 'name = "oncall-dark"\nprimary = "#ff00ff"\n')

    result = load_themes(shipped_themes_dir(), tmp_path)

    assert result.failures == []
    assert result.themes["oncall-dark"].primary == "#ff00ff"


def test_missing_directory_is_not_a_failure(tmp_path: Path) -> None:
    assert load_themes(tmp_path / "absent") == ({}, [])


def test_theme_file_converts_to_the_same_textual_theme() -> None:
    theme_file = ThemeFile(
        name="x", dark=False, primary="#010203", panel="#040506", variables={"sev-info": "red"}
    )

    assert theme_file.to_textual_theme() == Theme(
        name="x", dark=False, primary="#010203", panel="#040506", variables={"sev-info": "red"}
    )


def test_theme_may_override_textual_variables(tmp_path: Path) -> None:
    write(tmp_path, "t.toml", GOOD_THEME + '[variables]\ntext-muted = "#7a6050"\n')

    assert load_themes(tmp_path).themes["good"].variables == {"text-muted": "#7a6050"}


# Semantic defaults


@pytest.mark.parametrize("theme", BUILTIN_THEMES.values(), ids=BUILTIN_THEMES.keys())
def test_semantic_defaults_give_every_theme_every_variable(theme: Theme) -> None:
    defaults = semantic_defaults(theme)

    assert tuple(defaults) == SEMANTIC_VARIABLES
    for value in defaults.values():
        Color.parse(value)


def test_semantic_defaults_follow_the_theme_colours() -> None:
    theme = Theme(
        name="bare", primary="#336699", warning="#ddaa00", error="#cc0000", success="#00aa00"
    )

    defaults = semantic_defaults(theme)

    generated = theme.to_color_system().generate()
    assert defaults["sev-critical"] == generated["error"]
    assert defaults["state-resolved"] == generated["success"]
    assert defaults["sev-info"] == generated["primary"]
    assert len({defaults[f"sev-{severity}"] for severity in Severity}) == len(Severity)
    assert defaults["session-idle"] != defaults["session-ended"]


# Remembered theme


def test_remember_and_recall_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state" / "nested" / "ui.toml"
    assert remembered_theme(path) is None

    remember_theme(path, "oncall-night")
    assert remembered_theme(path) == "oncall-night"

    remember_theme(path, "oncall-light")
    assert remembered_theme(path) == "oncall-light"
    assert [p.name for p in path.parent.iterdir()] == ["ui.toml"]


@pytest.mark.parametrize("name", ['quote " back \\ slash', "tab\tnew\nline\x7fdel", "nuit 🌙"])
def test_remember_survives_awkward_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / "ui.toml"

    remember_theme(path, name)

    assert remembered_theme(path) == name


@pytest.mark.parametrize(
    "content", [b"theme = ", b"theme = 3\n", b'other = "x"\n', b'theme = ""\n', b"\xff"]
)
def test_untrustworthy_state_file_means_no_choice(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ui.toml"
    path.write_bytes(content)

    assert remembered_theme(path) is None


def test_default_paths_follow_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    assert user_themes_dir() == tmp_path / "config" / "oncall-tui" / "themes"
    assert ui_state_path() == tmp_path / "state" / "oncall-tui" / "ui.toml"
    assert (shipped_themes_dir() / "dark.toml").is_file()


# Rendering


class ThemedApp(App[None]):
    """The smallest app wired the way the dashboard is: our themes plus semantic defaults."""

    CSS = "Static { color: $sev-critical; background: $panel; }"

    def __init__(self, themes: dict[str, Theme]) -> None:
        super().__init__()
        for theme in themes.values():
            self.register_theme(theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return semantic_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Static("payments-api: 5xx rate 38%")


async def test_every_theme_renders_semantic_colours(shipped: dict[str, Theme]) -> None:
    app = ThemedApp(shipped)
    async with app.run_test(size=(40, 5)) as pilot:
        static = app.query_one(Static)
        for name, theme in shipped.items():
            app.theme = name
            await pilot.pause()
            assert static.styles.color == Color.parse(theme.variables["sev-critical"]), name
            assert "payments-api" in app.export_screenshot()

        # A theme without our variables falls back to the derived defaults.
        app.theme = "textual-dark"
        await pilot.pause()
        expected = semantic_defaults(BUILTIN_THEMES["textual-dark"])["sev-critical"]
        assert static.styles.color == Color.parse(expected)
