"""What the agent will read if the highlighted push is approved: what matters first."""

from __future__ import annotations

from textual.widgets import TextArea


class PushPreview(TextArea):
    """Read-only and plain: the document is shown as bytes the agent gets, never as markup."""

    DEFAULT_CSS = """
    PushPreview { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, read_only=True, soft_wrap=True, show_line_numbers=False)
        self.border_title = "Preview: what the agent will read"

    def show(self, document: str) -> None:
        if document != self.text:
            self.load_text(document)
