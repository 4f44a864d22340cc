"""No credential a sender presents, nor any configured secret, ends up in the DB, files or logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from pathlib import Path

import pytest

from oncall_tui.agents.export import sync
from oncall_tui.config import ExportSettings, Settings, SourceSettings
from oncall_tui.ingest import Ingestor
from oncall_tui.store.journal import Store

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
TOKEN = "tok-0123456789abcdef"
SECRET = "sec-fedcba9876543210"
PASSWORD = "pw-5c1a7e"


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
        ingestor.ingest("alertmanager", alert, {"Authorization": f"Bearer {TOKEN}"}).status
        == "accepted"
    )
    assert (
        ingestor.ingest("alertmanager", alert, {"Authorization": "Bearer wrong-token"}).http_status
        == 403
    )
    body = (SAMPLES / "pagerduty" / "triggered.json").read_bytes()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-PagerDuty-Signature": f"v1={signature}",
        "X-Webhook-Id": "w-1",
        "Cookie": f"s={TOKEN}",
    }
    assert ingestor.ingest("pagerduty", body, headers).status == "accepted"
    basic = base64.b64encode(f"dd:{PASSWORD}".encode()).decode()
    datadog = (SAMPLES / "datadog" / "triggered.json").read_bytes()
    assert (
        ingestor.ingest("datadog", datadog, {"Authorization": f"Basic {basic}"}).status
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
