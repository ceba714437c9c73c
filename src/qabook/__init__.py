"""qabook: find the Q&A inside AI chat transcripts and turn it into faithful documents."""

from qabook.model import Document, Item, Section

__version__ = "0.1.0"
__all__ = ["Document", "Item", "Section", "__version__"]
