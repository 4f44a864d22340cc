"""The configuration refuses what it does not know, and never prints a value it was given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oncall_tui.config import ConfigError, Settings, load_settings
from tests.support.environment import drop_our_variables

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message, "one line"
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The finding: a typo under a signing source left it accepting unsigned deliveries.
        (
            '[sources.pagerduty]\nsecert = "s"\n',
            "sources.pagerduty: unknown key 'secert' (did you mean 'secret'?)",
        ),
        (
            '[sources.alertmanager]\ntokn = "t"\n',
            "sources.alertmanager: unknown key 'tokn' (did you mean 'token'?)",
        ),
        (
            "[server]\nmax_body_byte = 10\n",
            "server: unknown key 'max_body_byte' (did you mean 'max_body_bytes'?)",
        ),
        (
            '[pollers.alertmanager]\nurl = "http://am:9093"\nintervl = 3\n',
            "pollers.alertmanager: unknown key 'intervl' (did you mean 'interval_s'?)",
        ),
        (
            '[pollers.pagerduty]\nurl = "https://api.pagerduty.com"\nservice_id = ["P1"]\n',
            "pollers.pagerduty: unknown key 'service_id' (did you mean 'service_ids'?)",
        ),
        ("[pollers.prometheus]\n", "pollers: unknown key 'prometheus'"),
        (
            '[services]\nlabel_key = ["svc"]\n',
            "services: unknown key 'label_key' (did you mean 'label_keys'?)",
        ),
        (
            "[incidents]\ncorrelation_window = 60\n",
            "incidents: unknown key 'correlation_window' (did you mean 'correlation_window_s'?)",
        ),
        (
            "[sessions]\nidle_after = 60\n",
            "sessions: unknown key 'idle_after' (did you mean 'idle_after_s'?)",
        ),
        (
            '[policy]\nauto_aprove = ["all"]\n',
            "policy: unknown key 'auto_aprove' (did you mean 'auto_approve'?)",
        ),
        (
            '[export]\nrepo_writer = ["cursor"]\n',
            "export: unknown key 'repo_writer' (did you mean 'repo_writers'?)",
        ),
        ('[ui]\nthme = "x"\n', "ui: unknown key 'thme' (did you mean 'theme'?)"),
        ("[servr]\nport = 1\n", "unknown key 'servr' (did you mean 'server'?)"),
        (
            '[sources.pagerdty]\nsecret = "s"\n',
            "sources: unknown key 'pagerdty' (did you mean 'pagerduty'?)",
        ),
    ],
)
def test_an_unknown_key_in_any_section_is_an_error_naming_the_closest_known_one(
    tmp_path: Path, text: str, expected: str
) -> None:
    message = refusal(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'config.toml'}: ")
    assert expected in message


def test_a_misspelt_secret_no_longer_leaves_the_source_unauthenticated(tmp_path: Path) -> None:
    # Before: the key was dropped and the source had no credential at all.
    with pytest.raises(ConfigError, match="secert"):
        load(tmp_path, '[sources.pagerduty]\nsecert = "s3cret"\n')
    assert load(tmp_path, '[sources.pagerduty]\nsecret = "s3cret"\n').source(
        "pagerduty"
    ).auth_kinds == ["hmac"]


def test_unknown_nested_keys_from_the_environment_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_TUI_SOURCES__PAGERDUTY__SECERT", "s3cret")
    message = refusal(tmp_path, "")
    # Named by the variable that set it, not by a file.
    assert message == (
        "ONCALL_TUI_SOURCES__PAGERDUTY__SECERT: unknown key 'secert' (did you mean 'secret'?)"
    )
    assert "s3cret" not in message
    monkeypatch.delenv("ONCALL_TUI_SOURCES__PAGERDUTY__SECERT")

    monkeypatch.setenv("ONCALL_TUI_SERVR__PORT", "9000")
    message = refusal(tmp_path, "")
    assert "ONCALL_TUI_SERVR__PORT: unknown key 'servr' (did you mean 'server'?)" in message
    # Flat names also serve the command line and stay allowed.
    monkeypatch.delenv("ONCALL_TUI_SERVR__PORT")
    monkeypatch.setenv("ONCALL_TUI_USER", "alice")
    assert load(tmp_path, "").server.port == 9977


@pytest.mark.parametrize(
    "text",
    [
        "[sources.pagerduty]\nsecret = 918273645\n",
        "[sources.alertmanager]\ntoken = 918273645\n",
        '[sources.datadog]\nbasic_user = "dd"\nbasic_password = 918273645\n',
        '[pollers.pagerduty]\nurl = "https://api.pagerduty.com"\ntoken = 918273645\n',
        "[sources.pagerduty]\nsecret = [918273645]\n",
        "[server]\nport = 918273645\n",
    ],
)
def test_a_validation_error_never_quotes_the_value_given(tmp_path: Path, text: str) -> None:
    message = refusal(tmp_path, text)
    assert "918273645" not in message
    assert re.search(r"(secret|token|basic_password|port): ", message), message


def test_the_readme_configuration_example_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "README.md has a ```toml example"
    for block in blocks:
        settings = load(tmp_path, block)
        if "[sources.pagerduty]" in block:
            assert settings.source("pagerduty").auth_kinds == ["hmac"]


def test_the_remote_agents_variables_are_not_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's machine exports ``ONCALL_TUI_SERVER`` (a URL) and ``ONCALL_TUI_TOKEN`` for its
    hooks; every other command there must still load, and the server section stay settable."""
    monkeypatch.setenv("ONCALL_TUI_SERVER", "https://oncall.internal")
    monkeypatch.setenv("ONCALL_TUI_TOKEN", "a-token")
    monkeypatch.setenv("ONCALL_TUI_SERVER__PORT", "9000")
    assert load(tmp_path, "").server.port == 9000
