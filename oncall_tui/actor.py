"""Who is acting, for the journal: the engineer at this terminal.

Every front end (the command line, the dashboard) records human decisions under the same name,
so it lives here, below both, rather than in either.
"""

from __future__ import annotations

import getpass
import os

USER_ENV = "ONCALL_TUI_USER"


def current_user() -> str:
    """``$ONCALL_TUI_USER``, else the login name."""
    name = os.environ.get(USER_ENV)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def engineer() -> str:
    """The journal actor of the engineer at this terminal: ``user:<name>``."""
    return f"user:{current_user()}"
