"""The reports: agent-assisted regressions and agent readiness, in md, json, html and a table."""
