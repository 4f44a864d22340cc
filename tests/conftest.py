"""Fixtures shared by every test directory."""

from tests.support.postgres import open_store, pg_server, pg_url

__all__ = ["open_store", "pg_server", "pg_url"]
