"""Peer for the benchmark: write the same items to DOCX with python-docx.

Usage: ``python bench/python_docx_peer.py ITEMS.json OUT.docx``

``ITEMS.json`` is written by ``bench/run.py``: ``{"title": str, "sections": [{"title": str,
"items": [{"question": str, "blocks": [str, ...]}, ...]}, ...]}`` with every answer block already
reduced to its plain text. For each section this adds a level-1 heading, for each item
``add_heading(question, 2)`` and one ``add_paragraph`` per answer block: the simplest faithful
use of python-docx, with no inline formatting, lists, tables or code styling. It is run as its own
process so that interpreter start-up and memory are measured like qabook's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from docx import Document


def main(argv: list[str]) -> int:
    """Convert ``argv[0]`` (items JSON) to ``argv[1]`` (DOCX)."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    doc = Document()
    doc.add_heading(data["title"], 0)
    for section in data["sections"]:
        doc.add_heading(section["title"], 1)
        for item in section["items"]:
            doc.add_heading(item["question"], 2)
            for text in item["blocks"]:
                doc.add_paragraph(text)
    doc.save(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
