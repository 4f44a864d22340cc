"""``schema``: the published schemas, gathered from the commands that publish them."""

from __future__ import annotations

from oncall_tui.cli.context_cmd import schema
from oncall_tui.cli.timeline_cmd import timeline_schema

schema.add_command(timeline_schema)

__all__ = ["schema"]
