"""An incident's story over time: the model, its exposure and its exports (Markdown, JSON, HTML)."""
