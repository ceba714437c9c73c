"""Input that is large in one direction converts in time linear in its size.

Each case below made qabook quadratic (or worse) before it was fixed: the time for an input eight
times as large must stay well below sixty-four times the time for the small one. The sizes are chosen
so the small input takes a few tens of milliseconds, and each time is the best of three runs, so
that a busy machine does not fail the test. The 20 MB line of the issue is in
``test_hardening_cli.py``; the issue's 100 MB takes five times as long (linear).
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import Callable

import pytest

from qabook.pipeline import load
from qabook.writers import docx, markdown

FACTOR = 8
"""How much larger the large input is."""
LINEAR = 24.0
"""Largest allowed t(8n) / t(n): linear is 8, quadratic 64 (three times linear leaves room for a
busy machine)."""


def _best_time(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _convert(data: bytes, name: str) -> None:
    doc = load(data, name).document
    markdown.render(doc)
    docx.write(doc, io.BytesIO())


def _transcript_answer(body: str) -> bytes:
    return f"1. Q: What is it?\nA: {body}\n\n2. Q: And then?\nA: Done.\n".encode()


def _qabook_markdown(body: str) -> bytes:
    from qabook.writers.markdown import SIGNATURE

    return f"{SIGNATURE}\n\n# T\n\n## S\n\n{body}\n\n### 2. Next?\n\nDone.\n".encode()


CASES: dict[str, tuple[Callable[[int], bytes], str, int]] = {
    # name: (input of size n, file name, n)
    "TeX openers without closers (\\( in a chat answer)": (
        lambda n: _transcript_answer("\\( a " * n), "chat.txt", 20_000),
    "TeX display openers without closers (\\[)": (
        lambda n: _transcript_answer("\\[ a " * n), "chat.txt", 20_000),
    "thousands of text runs to merge (inline HTML)": (
        lambda n: _transcript_answer("<b>" * n), "chat.txt", 20_000),
    "an answer label followed by a long run of spaces": (
        lambda n: _transcript_answer("x" + " " * n + "y"), "chat.txt", 20_000),
    "a heading followed by a long run of spaces (qabook Markdown)": (
        lambda n: _qabook_markdown("### 1. What" + " " * n + "#x\n\nAn answer."), "notes.md", 20_000),
    "summaries that never close (<details> Markdown)": (
        lambda n: ("## Topic\n\n<details><summary>What is it?</summary>\n\nThis.\n\n</details>\n\n"
                   "<details><summary>And this?</summary>\n\n" + "<summary>" * n + "\n\n</details>\n").encode(),
        "faq.md", 20_000),
    "a question of many words on one line": (
        lambda n: f"1. Q: {'word ' * n}?\nA: Yes.\n\n2. Q: Short?\nA: No.\n".encode(), "chat.txt", 50_000),
    "list markers nested on one line": (
        lambda n: _transcript_answer("- " * n + "x"), "chat.txt", 5_000),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_time_is_linear_in_the_size(case: str) -> None:
    make, name, n = CASES[case]
    small, large = make(n), make(FACTOR * n)
    _convert(small, name)  # warm up imports and caches
    t_small = _best_time(lambda: _convert(small, name))
    t_large = _best_time(lambda: _convert(large, name))
    assert t_large < LINEAR * max(t_small, 0.01), f"{case}: {t_small:.3f} s for n, {t_large:.3f} s for {FACTOR}n"


def test_a_run_of_html_comments_is_not_exponential() -> None:
    """``(?:\\s|<!--.*?-->)*$`` backtracked over every way to split a run of comments."""
    text = ("## Topic\n\n<details><summary>What is it?</summary>\n" + "<!---->" * 40 + "x\n\n"
            "This.\n\n</details>\n\n<details><summary>And this?</summary>\n\nThat.\n\n</details>\n")
    t0 = time.perf_counter()
    doc = load(text.encode(), "faq.md").document
    assert time.perf_counter() - t0 < 5
    assert len(list(doc.items())) == 2


def _bold_runs_docx(n: int) -> bytes:
    """A Word file whose one answer is ``n`` bold runs (merged into one bold run when read)."""
    runs = "".join(f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">w{i} </w:t></w:r>' for i in range(n))
    body = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            '<w:p><w:r><w:t>Q: What is it?</w:t></w:r></w:p>'
            f'<w:p><w:r><w:t xml:space="preserve">A: </w:t></w:r>{runs}</w:p>'
            '<w:p><w:r><w:t>Q: And then?</w:t></w:r></w:p><w:p><w:r><w:t>A: Done.</w:t></w:r></w:p>'
            "</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", body)
    return buf.getvalue()


def test_word_runs_merge_in_linear_time() -> None:
    small, large = _bold_runs_docx(2_500), _bold_runs_docx(2_500 * FACTOR)
    _convert(small, "a.docx")
    t_small = _best_time(lambda: _convert(small, "a.docx"))
    t_large = _best_time(lambda: _convert(large, "a.docx"))
    assert t_large < LINEAR * max(t_small, 0.01), f"{t_small:.3f} s for n, {t_large:.3f} s for {FACTOR}n"
    doc = load(large, "a.docx").document
    first = next(doc.items())
    assert f"w{2_500 * FACTOR - 1}" in markdown.render(doc) and len(first.answer) == 1
