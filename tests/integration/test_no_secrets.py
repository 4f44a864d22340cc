"""No credential a sender presents, nor any configured secret, ends up in the DB, files or logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from oncall_tui.agents.export.sync import sync
from oncall_tui.cli import cli as cli_group
from oncall_tui.config import ExportSettings, Settings, SourceSettings
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.deliveries import REDACTED
from oncall_tui.store.journal import Store
from tests.factories import append_stored
from tests.integration.conftest import ReceiverFactory
from tests.support.samples import SAMPLES

TOKEN = "tok-0123456789abcdef"
SECRET = "sec-fedcba9876543210"
PASSWORD = "pw-5c1a7e"
JSON = {"Content-Type": "application/json"}


def test_credentials_never_reach_storage_exports_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pydantic import SecretStr

    settings = Settings(
        db=tmp_path / "oncall.db",
        export=ExportSettings(dir=tmp_path / "context"),
        sources={
            "alertmanager": SourceSettings(token=SecretStr(TOKEN)),
            "pagerduty": SourceSettings(secret=SecretStr(SECRET)),
            "datadog": SourceSettings(basic_user="dd", basic_password=SecretStr(PASSWORD)),
        },
    )
    store = Store.open(settings.db)
    ingestor = Ingestor(store, settings)
    caplog.set_level(logging.DEBUG)
    alert = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    assert (
        ingestor.ingest("alertmanager", alert, {**JSON, "Authorization": f"Bearer {TOKEN}"}).status
        == "accepted"
    )
    assert (
        ingestor.ingest(
            "alertmanager", alert, {**JSON, "Authorization": "Bearer wrong-token"}
        ).http_status
        == 403
    )
    body = (SAMPLES / "pagerduty" / "triggered.json").read_bytes()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        **JSON,
        "X-PagerDuty-Signature": f"v1={signature}",
        "X-Webhook-Id": "w-1",
        "Cookie": f"s={TOKEN}",
    }
    assert ingestor.ingest("pagerduty", body, headers).status == "accepted"
    basic = base64.b64encode(f"dd:{PASSWORD}".encode()).decode()
    datadog = (SAMPLES / "datadog" / "triggered.json").read_bytes()
    assert (
        ingestor.ingest("datadog", datadog, {**JSON, "Authorization": f"Basic {basic}"}).status
        == "accepted"
    )
    sync(store, settings)
    store.close()

    everything = settings.db.read_bytes()
    for extra in tmp_path.glob("oncall.db-*"):
        everything += extra.read_bytes()
    for path in (tmp_path / "context").rglob("*"):
        if path.is_file():
            everything += path.read_bytes()
    everything += caplog.text.encode()
    for secret in (TOKEN, SECRET, PASSWORD, basic, "wrong-token"):
        assert secret.encode() not in everything, secret


# --- what a refusal, a header, a URL or a config error may say ------------------------------

LEAKED = "abc123-leaked-credential"
"""A credential sent where it does not belong: it must not come back in any reason."""


def cli(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli_group, ["--db", str(db), *args], catch_exceptions=False)


def recorded(db: Path, *outputs: str) -> bytes:
    """The DB file, its WAL, and what the CLI printed about it."""
    found = b"".join(p.read_bytes() for p in db.parent.glob(f"{db.name}*") if p.is_file())
    return found + "".join(outputs).encode()


@pytest.mark.parametrize(
    "authorization",
    [LEAKED, f"{LEAKED} trailing", f"Digest {LEAKED}", f"Token {LEAKED}", f"X{LEAKED}"],
)
def test_a_refused_authorization_header_is_never_quoted_in_the_reason(
    receiver: ReceiverFactory, authorization: str
) -> None:
    endpoint = receiver(sources={"alertmanager": {"token": TOKEN}})
    alert = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    reply = endpoint.post("alertmanager", alert, {"Authorization": authorization})
    assert reply.status == 401
    assert LEAKED.encode() not in reply.body
    assert reply.json["error"].startswith("unsupported Authorization scheme")
    assert "expected bearer" in reply.json["error"]
    listed = cli(endpoint.db, "deliveries", "--json")
    assert LEAKED.encode() not in recorded(endpoint.db, listed.output)
    assert json.loads(listed.output)[0]["headers"]["authorization"] == REDACTED


UNUSUAL = {
    "X-Auth": "xauth-5e1f",
    "X-Api-Key": "xapikey-77a0",
    "X-Auth-Token": "xauthtoken-1b9c",
    "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
    "X-Access-Key": "xaccesskey-2d4e",
    "Private-Token": "privatetoken-90fe",
    "X-Session-Id": "xsession-3c3c",
    "X-Client-Secret": "xclientsecret-6a6a",
    "X-Forwarded-Credentials": "fwdcred-8b8b",
    "X-Db-Password": "dbpassword-4f4f",
    "Cookie": "sid=cookie-0d0d",
    "X-Custom": "Bearer custombearer-1e1e",
    "X-PagerDuty-Signature": "v1=0123456789abcdef0123456789abcdef",
}


def test_credential_like_headers_are_redacted_in_the_record(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    alert = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    sent = {**UNUSUAL, "X-Request-Origin": "kept-as-is"}
    assert endpoint.post("alertmanager", alert, sent).status == 202
    endpoint.folded()
    listed = cli(endpoint.db, "deliveries", "--json")
    everything = recorded(endpoint.db, listed.output)
    for name, value in UNUSUAL.items():
        assert value.encode() not in everything, name
    [row] = json.loads(listed.output)
    assert {row["headers"][name.lower()] for name in UNUSUAL} == {REDACTED}
    assert row["headers"]["x-request-origin"] == "kept-as-is"


def test_rows_stored_under_an_older_rule_are_redacted_when_read(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = Store.open(db)
    alert = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    Ingestor(store, Settings(db=db)).ingest("alertmanager", alert, {}, verify="none")
    with store.write() as writer:  # as an older version stored them: unredacted
        writer.conn.execute(
            "UPDATE deliveries SET headers = ?", (json.dumps({"x-api-key": "old-key-5a5a"}),)
        )
    store.close()
    listed = cli(db, "deliveries", "--json")
    assert "old-key-5a5a" not in listed.output
    assert json.loads(listed.output)[0]["headers"] == {"x-api-key": REDACTED}


REPO_TOKEN = "ghp_repotoken0123456789"


def test_credentials_in_a_repo_url_reach_neither_the_record_nor_the_files(
    receiver: ReceiverFactory, tmp_path: Path
) -> None:
    endpoint = receiver()
    export_dir = tmp_path / "context"
    assert cli(endpoint.db, "catalog", "load", str(SAMPLES / "catalog.yaml")).exit_code == 0
    registered = endpoint.request(
        "POST",
        "/sessions",
        json.dumps(
            {
                "id": "s-http",
                "agent": "codex",
                "repo": f"https://x-access-token:{REPO_TOKEN}@github.com/acme-payments/payments-api",
                "paths": ["services/processor/retry.py"],
            }
        ).encode(),
        {"Content-Type": "application/json"},
    )
    assert registered.status == 201, registered.body
    assert registered.json["repo"] == "https://github.com/acme-payments/payments-api"
    by_cli = cli(
        endpoint.db,
        "sessions",
        "register",
        "s-cli",
        "--repo",
        f"https://oncall:{REPO_TOKEN}@github.com/acme-payments/payments-api.git",
        "--path",
        "services/processor/client.py",
    )
    assert by_cli.exit_code == 0, by_cli.output
    alert = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    assert endpoint.post("alertmanager", alert).status == 202
    endpoint.folded()
    broadcast = cli(
        endpoint.db,
        *("broadcast", "INC-1", "--yes", "-m", "Hold merges to payments"),
        *("--repo", f"https://x:{REPO_TOKEN}@github.com/acme-payments/payments-api.git"),
    )
    assert "sent to 1 session" in broadcast.output, broadcast.output
    outputs = [
        broadcast.output,
        cli(endpoint.db, "sessions", "list", "--all", "--json").output,
        cli(endpoint.db, "sessions", "list", "--all").output,
        cli(endpoint.db, "context", "s-http").output,
        cli(endpoint.db, "context", "s-cli", "--format", "json").output,
        cli(endpoint.db, "pushes", "--json").output,
        cli(endpoint.db, "export", "--dir", str(export_dir)).output,
    ]
    files = [p for p in export_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"INDEX.md", "CONTEXT.md", "context.json"}
    everything = recorded(endpoint.db, *outputs) + b"".join(p.read_bytes() for p in files)
    assert REPO_TOKEN.encode() not in everything
    assert b"github.com/acme-payments/payments-api" in everything  # the repo itself is kept
    sessions = {s["id"]: s for s in json.loads(outputs[1])}
    assert sessions["s-cli"]["repo"] == "https://github.com/acme-payments/payments-api.git"


def test_a_session_journaled_with_credentials_in_its_repo_is_shown_without_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    store = Store.open(db)
    with store.write() as writer:  # what an older version journaled as it was given
        append_stored(
            writer,
            "session.registered",
            {
                "session": {
                    "id": "s-old",
                    "repo": f"https://u:{REPO_TOKEN}@github.com/acme/checkout",
                    "first_seen": "2026-11-23T12:00:00+00:00",
                    "last_seen": "2026-11-23T12:00:00+00:00",
                }
            },
            actor="test",
        )
    store.close()
    export_dir = tmp_path / "context"
    outputs = [
        cli(db, "sessions", "list", "--all", "--json").output,
        cli(db, "context", "s-old").output,
        cli(db, "export", "--dir", str(export_dir)).output,
    ]
    shown = "".join(outputs) + "".join(p.read_text() for p in export_dir.rglob("*") if p.is_file())
    assert REPO_TOKEN not in shown
    assert json.loads(outputs[0])[0]["repo"] == "https://github.com/acme/checkout"


def test_config_show_masks_the_userinfo_of_a_poller_url(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[pollers.alertmanager]\nurl = "http://am-user:Passw0rd-7c7c@alertmanager:9093"\n'
        '[pollers.pagerduty]\nurl = "https://api.pagerduty.com"\ntoken = "pd-rest-key-9e9e"\n'
    )
    shown = cli(tmp_path / "c.db", "--config", str(config), "config", "show")
    assert shown.exit_code == 0, shown.output
    for secret in ("am-user", "Passw0rd-7c7c", "pd-rest-key-9e9e"):
        assert secret not in shown.output
    pollers = json.loads(shown.output)["pollers"]
    assert pollers["alertmanager"]["url"] == "http://********@alertmanager:9093"
    assert pollers["pagerduty"]["token"] == "********"


def test_a_numeric_secret_is_not_echoed_in_the_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[sources.pagerduty]\nsecret = 5550123987\n")
    result = CliRunner().invoke(
        cli_group, ["--db", str(tmp_path / "c.db"), "--config", str(config), "config", "show"]
    )
    assert result.exit_code == 1
    assert "sources.pagerduty.secret: expected a string" in result.output
    assert "5550123987" not in result.output
