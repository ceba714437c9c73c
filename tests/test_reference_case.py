"""The reference case end to end: 370 LLM interview Q&A pasted from one chat into another.

Counts and facts asserted here are the ones a careful human finds (shared/corpus/README.md).
"""

from __future__ import annotations

import re
from collections import Counter

from qabook.model import CodeBlock, Document, Item, plain_text
from qabook.readers import transcript
from qabook.repair import repair
from qabook.repair.base import map_sequences
from qabook.words import answer_words

CHAT_LINES = (
    "That's 81–100 fully expanded.",
    "Do you want me to push straight into 121–140",
    "You said:",
    "ChatGPT said:",
    "can u pls give me the qn ans",
    "Gemini Replied:",
    "Would you like me to continue",
    "how do i load this to a docx",
    "Online Markdown to DOCX Converter",
    "Here are the 370 questions and answers in Markdown format",
)


def _all_text(item: Item) -> str:
    parts = [plain_text(item.question)]

    def collect(blocks):  # type: ignore[no-untyped-def]
        for b in blocks:
            parts.append(repr(b))
        return blocks

    map_sequences(item.answer, collect)
    return "\n".join(parts)


def _source_questions(text: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^(\d+)\. Q: (.*?)(?: A:(?: .*)?)?$", line)
        if m:
            found.setdefault(int(m.group(1)), []).append(m.group(2).strip())
    return found


def test_370_items_numbered_once_each(reference) -> None:  # type: ignore[no-untyped-def]
    items = list(reference.document.items())
    assert len(items) == 370
    assert [it.number for it in items] == list(range(1, 371))
    assert all(it.status == "answered" for it in items)


def test_questions_verbatim_in_both_renditions(reference_bytes: bytes) -> None:
    text = reference_bytes.decode("utf-8")
    source = _source_questions(text)
    assert sorted(source) == list(range(1, 371))
    assert all(len(v) == 2 and v[0] == v[1] for v in source.values())
    doc = transcript.read(text, "ref.txt").document
    seen = Counter()
    for item in doc.items():
        assert item.number is not None
        assert plain_text(item.question) == source[item.number][0]
        seen[item.origin.rendition] += 1
    assert seen == {1: 370, 2: 370}


def test_no_chat_inside_any_item(reference) -> None:  # type: ignore[no-untyped-def]
    for item in reference.document.items():
        text = _all_text(item)
        for chat in CHAT_LINES:
            assert chat not in text, f"Q{item.number} holds chat: {chat!r}"


def test_chat_and_closing_exchange_reported_as_skipped(reference) -> None:  # type: ignore[no-untyped-def]
    skipped = dict(reference.report.skipped)
    assert skipped["speaker line"] == 36
    assert skipped["closing exchange"] > 0
    texts = [s.text for s in reference.report.skipped_examples]
    assert any("how do i load this to a docx" in t for t in texts)
    assert any(t.startswith("✅ That's 81–100 fully expanded.") for t in texts)
    assert any("can u pls give me the qn ans" in t for t in texts)


def test_missing_batch_heading_is_warned(reference) -> None:  # type: ignore[no-untyped-def]
    assert any("121–140" in w and "no batch heading" in w for w in reference.report.warnings)
    # the merged collection takes the heading the second rendition does have
    titles = [t for t, _ in reference.report.sections]
    assert "Expanded Q&A (121–140)" in titles
    assert len(titles) == 17


def _by_number(doc: Document) -> dict[int, Item]:
    return {it.number: it for it in doc.items() if it.number is not None}


def _code_blocks(item: Item) -> list[CodeBlock]:
    found: list[CodeBlock] = []

    def collect(blocks):  # type: ignore[no-untyped-def]
        found.extend(b for b in blocks if isinstance(b, CodeBlock))
        return blocks

    map_sequences(item.answer, collect)
    return found


def test_q166_code_is_one_block_of_seven_lines(reference) -> None:  # type: ignore[no-untyped-def]
    (code,) = _code_blocks(_by_number(reference.document)[166])
    lines = code.text.split("\n")
    assert len(lines) == 7
    assert lines[0] == "for i, batch in enumerate(dataloader):"
    assert lines[1] == "    loss = model(batch).loss"
    assert lines[5] == "        optimizer.step()"


def test_q167_code_is_one_block(reference_bytes: bytes) -> None:
    doc, _ = repair(transcript.read(reference_bytes.decode(), "ref.txt").document)
    first = next(it for it in doc.items() if it.number == 167 and it.origin.rendition == 1)
    (code,) = _code_blocks(first)
    assert code.text.split("\n")[0] == "torch.save({"
    assert code.text.split("\n")[-1] == "}, 'checkpoint.pt')"
    assert len(code.text.split("\n")) == 5


def test_q1_snippet_is_python(reference) -> None:  # type: ignore[no-untyped-def]
    (code,) = _code_blocks(_by_number(reference.document)[1])
    assert code.language == "python"
    assert code.text.startswith("import torch.nn as nn\n")


def test_formula_copies_collapsed(reference) -> None:  # type: ignore[no-untyped-def]
    by = _by_number(reference.document)
    for n, formula in ((5, r"y = \frac{x - \mu}{\sigma} \cdot \gamma + \beta"),
                       (18, r"P(w_1, w_2, \dots, w_n) = \prod_{i=1}^n P(w_i | w_{<i})"),
                       (65, r"PP = e^{-\frac{1}{N} \sum_{i=1}^N \log P(w_i)}")):
        tokens = [w for w in answer_words(by[n]) if w.startswith("$")]
        assert tokens == ["$" + formula.replace(" ", "") + "$"], f"Q{n}: {tokens}"
    mcc = [w for w in answer_words(by[186]) if w.startswith("$")]
    assert len(mcc) == 1 and mcc[0].startswith("$MCC=\\frac{TP")


def test_summary_names_items_whose_renditions_differ(reference) -> None:  # type: ignore[no-untyped-def]
    diffs = {d.number for d in reference.report.renditions.differences}
    # Gemini rewrote these formulas (LayerNorm, GELU, KL, perplexity, MCC): named, earliest kept
    assert {5, 11, 30, 65, 186} <= diffs
    assert all(d.kept == 1 for d in reference.report.renditions.differences)
    by = _by_number(reference.document)
    assert all(by[n].origin.rendition == 1 for n in diffs)
    # and items without differences may come from either rendition
    assert len(diffs) < 60


def test_chosen_items_have_the_earliest_words(reference_bytes: bytes, reference) -> None:  # type: ignore[no-untyped-def]
    doc, _ = repair(transcript.read(reference_bytes.decode(), "ref.txt").document)
    earliest = {it.number: it for it in doc.items() if it.origin.rendition == 1}
    for item in reference.document.items():
        assert answer_words(item) == answer_words(earliest[item.number])
