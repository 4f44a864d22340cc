"""Fixtures shared by every test directory."""

import os

from tests.support.postgres import open_store, pg_server, pg_url

__all__ = ["open_store", "pg_server", "pg_url"]

# A hook that must write starts a hook server for the hooks after it; the tests' hooks make
# every write themselves, and the hook server's own tests ask for one.
os.environ.setdefault("ONCALL_TUI_HOOK_SERVER", "0")
