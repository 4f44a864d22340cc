"""``compose.yaml``, the team-mode example, holds together: what each serve is given is valid
settings for a serve off loopback, and Alertmanager's configuration passes Alertmanager's own
check (``amtool check-config``, from Debian's ``prometheus-alertmanager``).

No container runs here; what is checked is what a typo would break. The file's format:
https://docs.docker.com/reference/compose-file/ (``x-`` extensions and YAML merge keys, inline
``configs.content``, ``${VAR:?message}`` interpolation).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_tui.paths import carries_password, is_postgres_url
from tests.support.environment import without_our_variables

COMPOSE = Path(__file__).parents[2] / "compose.yaml"
VARIABLES = {"ONCALL_DB_PASSWORD": "db-pass-for-the-test", "ONCALL_AM_TOKEN": "am-token-0c0c"}
_REFERENCE = re.compile(r"\$\{(\w+)(?::\?[^}]*)?\}")


def _interpolated(text: str) -> str:
    """What Compose reads, with the variables the file demands set."""
    return _REFERENCE.sub(lambda m: VARIABLES[m.group(1)], text.replace("$$", "\0")).replace(
        "\0", "$"
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(_interpolated(COMPOSE.read_text()))
    return data


def test_every_variable_the_file_uses_is_demanded_with_a_message() -> None:
    names = set(_REFERENCE.findall(COMPOSE.read_text()))
    assert names == set(VARIABLES)
    for name in names:
        assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", COMPOSE.read_text())


def test_two_serves_on_one_database_with_distinct_host_names(compose: dict[str, Any]) -> None:
    services = compose["services"]
    serves = {name: s for name, s in services.items() if s.get("command", [None])[0] == "serve"}
    assert set(serves) == {"serve-a", "serve-b"}
    assert len({s["hostname"] for s in serves.values()}) == 2
    urls = {s["environment"]["ONCALL_TUI_DB"] for s in serves.values()}
    assert len(urls) == 1
    [url] = urls
    assert is_postgres_url(url) and not carries_password(url)
    assert all(
        s["depends_on"]["postgres"]["condition"] == "service_healthy" for s in serves.values()
    )


def test_what_a_serve_is_given_is_valid_settings_off_loopback(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    serve = compose["services"]["serve-a"]
    env = without_our_variables()
    env.update({k: str(v) for k, v in serve["environment"].items()})
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    host = serve["command"][serve["command"].index("--host") + 1]
    check = (
        "from oncall_tui.config import load_settings;"
        "from oncall_tui.server.runner import check_bind;"
        "import sys; s = load_settings(None, server={'host': sys.argv[1]});"
        "check_bind(s); print(s.db, sorted(s.server.allowed_hosts))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, host], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "postgresql://oncall@postgres:5432/oncall" in done.stdout
    assert "serve-a" in done.stdout and "serve-b" in done.stdout


def test_alertmanager_sends_to_both_serves_with_the_token(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    config_text = compose["configs"]["alertmanager"]["content"]
    config = yaml.safe_load(config_text)
    [receiver] = config["receivers"]
    hooks = receiver["webhook_configs"]
    assert [h["url"] for h in hooks] == [
        "http://serve-a:9977/webhooks/alertmanager",
        "http://serve-b:9977/webhooks/alertmanager",
    ]
    assert {h["http_config"]["authorization"]["credentials"] for h in hooks} == {
        VARIABLES["ONCALL_AM_TOKEN"]
    }
    amtool = shutil.which("amtool")
    if amtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("amtool is needed in CI (Debian's prometheus-alertmanager)")
        pytest.skip("no amtool")
    path = tmp_path / "alertmanager.yml"
    path.write_text(config_text)
    done = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
