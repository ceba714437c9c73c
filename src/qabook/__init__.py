"""qabook: find the Q&A inside AI chat transcripts and turn it into faithful documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qabook.model import Document, Item, Section

__version__ = "0.1.0"
__all__ = ["Document", "Item", "Section", "__version__"]


def __getattr__(name: str) -> Any:
    # The model is imported on first use, so `import qabook` (and `qabook --version`) stays cheap.
    if name in ("Document", "Item", "Section"):
        from qabook import model

        return getattr(model, name)
    raise AttributeError(f"module 'qabook' has no attribute {name!r}")
