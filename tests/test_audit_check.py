"""``qabook check``: the review of a collection, pinned on the reference case and small inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qabook.audit.check import duplicate_groups, question_keys, review
from qabook.cli import main
from qabook.model import Item, Paragraph, Text
from qabook.pipeline import load

CLEAN = b"Questions (1-2)\n\n1. Q: What is a tensor? A: An array.\n\n2. Q: What is a gradient? A: A vector.\n"


def test_reference_numbering_both_renditions_complete(reference) -> None:  # type: ignore[no-untyped-def]
    rv = review(reference)
    assert [(c.rendition, c.items, c.first, c.last, c.complete) for c in rv.coverage] == [
        (1, 370, 1, 370, True), (2, 370, 1, 370, True)]


def test_reference_missing_batch_heading(reference) -> None:  # type: ignore[no-untyped-def]
    rv = review(reference)
    assert [(m.rendition, m.first, m.last) for m in rv.missing_headings] == [(1, 121, 140)]


def test_reference_groups_of_repeated_questions(reference) -> None:  # type: ignore[no-untyped-def]
    groups = {g.numbers: g for g in review(reference).duplicates}
    # asked three to five times under different numbers, exact and reworded
    assert groups[(66, 181, 280)].kind == "exact"            # BLEU score
    assert groups[(37, 89, 141)].kind == "near"              # LoRA, "LoRA in detail"
    assert groups[(65, 187, 284)].kind == "near"             # perplexity, "again, in depth"
    assert groups[(26, 71, 129)].kind == "near"              # RLHF spelled out either way round
    assert groups[(88, 136, 154, 226, 314)].kind == "near"   # FlashAttention / flash attention
    assert (51, 165) not in groups                           # Adam is not AdamW
    assert not any(315 in n for n in groups)                 # FlashAttention-2 is its own question
    assert all(0 <= g.answer_similarity <= 100 for g in groups.values())
    assert 40 <= len(groups) <= 70


def test_reference_rendition_differences_with_hunks(reference) -> None:  # type: ignore[no-untyped-def]
    diffs = {d.number: d for d in review(reference).differences}
    assert {5, 11, 30, 65, 186} <= set(diffs)
    assert set(diffs) == {d.number for d in reference.report.renditions.differences}
    (hunk,) = diffs[5].hunks
    assert hunk.earliest == "$y=\\frac{x-\\mu}{\\sigma}\\cdot\\gamma+\\beta$"
    assert hunk.other == "$y=((x-\\mu)/\\sigma)*\\gamma+\\beta$"
    assert hunk.before.endswith("Formula") and hunk.after.startswith("where")


def test_reference_needs_review_and_json(reference_bytes: bytes, tmp_path: Path) -> None:
    src = tmp_path / "ref.txt"
    src.write_bytes(reference_bytes)
    r = CliRunner().invoke(main, ["check", str(src), "--json"])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["needs_review"] is True
    assert data["missing_headings"][0]["first"] == 121
    assert data["skipped"]["speaker line"] == 36
    assert any(d["number"] == 65 for d in data["differences"])


def test_terminal_and_html_output(reference_bytes: bytes, tmp_path: Path) -> None:
    src = tmp_path / "ref.txt"
    src.write_bytes(reference_bytes)
    page = tmp_path / "review.html"
    r = CliRunner().invoke(main, ["check", str(src), "--html", str(page)], terminal_width=200)
    assert r.exit_code == 1
    assert "Missing batch heading: items 121–140" in r.output
    assert "Q5 What is layer normalization?" in r.output
    assert "earliest: $y=\\frac{x-\\mu}{\\sigma}" in r.output
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<del>" in text and "<ins>" in text
    assert "http" not in text.split("<body>")[0]  # no external resources


def test_clean_collection_exits_0(tmp_path: Path) -> None:
    src = tmp_path / "clean.txt"
    src.write_bytes(CLEAN)
    r = CliRunner().invoke(main, ["check", str(src)])
    assert r.exit_code == 0, r.output
    assert "clean" in r.output


def test_gaps_and_order_and_unanswered(tmp_path: Path) -> None:
    src = tmp_path / "gappy.md"
    src.write_text("### 1. One?\n\nA.\n\n### 3. Three?\n\nC.\n\n### 2. Two?\n\n### 5. Five?\n\nE.\n")
    rv = review(load(src.read_bytes(), "gappy.md"))
    (c,) = rv.coverage
    assert c.gaps == (4,) and c.out_of_order == (2,)
    assert rv.unanswered == ((2, "Two?"),)
    assert rv.needs_review


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "empty.txt"
    src.write_bytes(b"")
    r = subprocess.run([sys.executable, "-m", "qabook.cli", "check", str(src)], capture_output=True)
    assert r.returncode == 2 and r.stderr.decode().startswith(f"qabook: error: {src}: ")


@pytest.mark.parametrize("question,key", [
    ("What is LoRA (Low-Rank Adaptation)?", "low rank adaptation"),
    ("What is LoRA in detail?", "lora"),
    ("What is flash attention?", "flashattention"),
])
def test_question_keys(question: str, key: str) -> None:
    assert key in question_keys(question)


def test_near_duplicates_are_blocked_not_all_pairs() -> None:
    """Thousands of distinct questions group only where they repeat (fast: no all-pairs)."""
    items = [Item(i, (Text(f"What is concept number {i} of topic {i % 97}?"),),
                  (Paragraph((Text("x"),)),)) for i in range(1, 3001)]
    items.append(Item(3001, (Text("What is concept number 7 of topic 7?"),), (Paragraph((Text("x"),)),)))
    groups = duplicate_groups(items)
    assert [g.numbers for g in groups] == [(7, 3001)]


def test_renditions_are_matched_within_a_collection_only() -> None:
    from dataclasses import replace as dc_replace

    from qabook.model import Document, Origin, Section
    from qabook.renditions import resolve

    def item(n: int, answer: str, rendition: int, collection: int) -> Item:
        return Item(n, (Text("Same question?"),), (Paragraph((Text(answer),)),),
                    origin=Origin(rendition, 0, 0, collection))

    doc = Document("T", "s", (Section("Chat A", (item(1, "a", 1, 1),)), Section("Chat B", (item(1, "b", 1, 2),))))
    merged, report = resolve(doc)
    assert [it.answer for it in merged.items()] == [it.answer for it in doc.items()]  # both kept
    assert report.differences == ()
    same = dc_replace(doc, sections=(Section("A", (item(1, "a", 1, 1), item(1, "b", 2, 1))),))
    merged, report = resolve(same)
    assert len(list(merged.items())) == 1 and [d.number for d in report.differences] == [1]


def test_audit_appendix_is_a_last_chapter_with_working_links(reference_bytes: bytes, tmp_path: Path) -> None:
    import zipfile as zf

    from lxml import etree

    from tests.ooxml import validate_docx

    src = tmp_path / "ref.txt"
    src.write_bytes(reference_bytes)
    out = tmp_path / "ref.docx"
    r = CliRunner().invoke(main, ["convert", str(src), "-o", str(out), "--audit-appendix", "-q"])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert validate_docx(data) == []
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(zf.ZipFile(out).read("word/document.xml"))
    headings = [("".join(t.text or "" for t in p.iter(f"{w}t")), p.find(f"{w}pPr/{w}pStyle").get(f"{w}val"))
                for p in root.iter(f"{w}p") if p.find(f"{w}pPr/{w}pStyle") is not None]
    assert ("Review", "Heading1") == [h for h in headings if h[1] == "Heading1"][-1]
    assert ("Where the renditions differ in words (32 items)", "Heading2") in headings
    bookmarks = {b.get(f"{w}name") for b in root.iter(f"{w}bookmarkStart")}
    anchors = [h.get(f"{w}anchor") for h in root.iter(f"{w}hyperlink") if h.get(f"{w}anchor")]
    item_links = [a for a in anchors if a.startswith("_TocQ") and not a.startswith("_TocQ0")]
    assert len(item_links) > 370 + 100  # the contents' entries, then the review's links to items
    assert set(anchors) <= bookmarks
    # the questions are still all there, word for word; the review adds entries of its own
    v = CliRunner().invoke(main, ["verify", str(out), "--source", str(src)])
    assert v.exit_code == 0 and "also holds items not in the source" in v.output
