"""The settings read without pydantic-settings are the settings it reads: same values, same
refusals, the environment still over the file and given values over both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.config import ConfigError, Settings, _settings_class, load_settings
from tests.support.environment import drop_our_variables

HOOK_SERVER_IDLE = "ONCALL_TUI_SESSIONS__HOOK_SERVER_IDLE_S"
"""Set for the whole test run (tests/conftest.py): an override, which these tests must control."""

EVERY_KIND_OF_VALUE = """\
db = "team.db"
[server]
port = 9000
allowed_hosts = ["oncall.internal"]
[sources.pagerduty]
secret = "s3cret"
[sources.alertmanager]
token = "t0ken"
silence_s = 60
[pollers.alertmanager]
url = "http://alertmanager:9093"
[services.aliases]
"Payments-API" = "payments-api"
[policy]
mode = "auto"
auto_approve = []
[export]
dir = "/tmp/context"
repo_writers = ["agents-md"]
[ui.keymap]
approve = "y"
[repos]
"acme/payments" = "/src/payments"
[repos.github]
token = "gh"
[catalog.owners]
"@acme/payments" = ["payments-api", "payment-processor"]
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    drop_our_variables(monkeypatch)
    monkeypatch.delenv(HOOK_SERVER_IDLE, raising=False)


def through_pydantic_settings(path: Path | None, **given: Any) -> Settings:
    return _settings_class(path)(**given)


@pytest.mark.parametrize(
    "text",
    [
        "",
        EVERY_KIND_OF_VALUE,
        'DB = "spelled-up.db"\n[Policy]\nmode = "observe"\n',  # only pydantic-settings takes it
        'db = "postgresql://oncall@db.internal/oncall"\n',
    ],
)
@pytest.mark.parametrize("env_db", [None, "from-env.db"])
@pytest.mark.parametrize("given", [{}, {"db": Path("given.db")}])
def test_the_plain_reading_is_pydantic_settings_reading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    env_db: str | None,
    given: dict[str, Any],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    if env_db:
        monkeypatch.setenv("ONCALL_TUI_DB", env_db)
    read = load_settings(config, **given)
    assert read.model_dump() == through_pydantic_settings(config, **given).model_dump()
    assert (type(read) is Settings) == (not text.startswith("DB"))


def test_an_override_in_the_environment_still_comes_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[policy]\nmode = "approve"\n[server]\nport = 9000\n')
    monkeypatch.setenv("ONCALL_TUI_POLICY__MODE", "auto")
    read = load_settings(config)
    assert (read.policy.mode, read.server.port) == ("auto", 9000)
    # Constructed directly, as a pydantic-settings class: given values over the environment's.
    assert Settings().policy.mode == "auto"
    assert Settings(policy={"mode": "observe"}).policy.mode == "observe"
    assert Settings(server={"host": "0.0.0.0"}).server.host == "0.0.0.0"
    monkeypatch.setenv("ONCALL_TUI_SERVER__PORT", "9100")
    assert Settings(server={"host": "0.0.0.0"}).server.port == 9100


@pytest.mark.parametrize(
    "text",
    [
        "[server]\nprot = 1\n",
        '[policy]\nmode = "sometimes"\n',
        "[sources.pagerduty]\nsecret = 12345\n",
        "db = 5\n",
        "[server\n",
        "[Server]\nprot = 1\n",
    ],
)
def test_a_refusal_is_worded_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """The plain reading hands every problem to pydantic-settings, whose messages say where."""
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as plainly:
        load_settings(config)
    # An override of a default forces pydantic-settings' reading from the start.
    monkeypatch.setenv("ONCALL_TUI_INCIDENTS__SUSPECT_WINDOW_S", "3600")
    with pytest.raises(ConfigError) as through_it:
        load_settings(config)
    assert str(plainly.value) == str(through_it.value)
    assert "12345" not in str(plainly.value)


def test_a_config_file_is_read_without_importing_pydantic_settings(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EVERY_KIND_OF_VALUE)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from oncall_tui.config import load_settings\n"
        f"assert load_settings(Path({str(config)!r})).policy.mode == 'auto'\n"
        "print('pydantic_settings' in sys.modules)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
