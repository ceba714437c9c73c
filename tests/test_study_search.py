"""``qabook search``: BM25 over questions and answers with SQLite FTS5."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qabook.model import Document, Item, Paragraph, Section, Text
from qabook.study import search as search_mod
from qabook.study.search import SearchIndex, blocks_text, search, words

from tests.test_model import EVERY_NODE


def _doc(*pairs: tuple[str, str]) -> Document:
    items = tuple(Item(n, (Text(q),), (Paragraph((Text(a),)),)) for n, (q, a) in enumerate(pairs, start=1))
    return Document("T", "s.txt", (Section("S", items),))


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qabook.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, encoding="utf-8")


def test_kv_cache_finds_q312_and_q313_first(reference) -> None:  # type: ignore[no-untyped-def]
    hits = search(reference.document, "kv cache")
    assert {hits[0].number, hits[1].number} == {312, 313}
    assert all("kv" in h.question.lower() or "kv" in h.snippet.lower() for h in hits)


def test_cli_search_reference_json(corpus: Path) -> None:
    r = _run("search", str(corpus / "000_8484edd62e7d6ec6.txt"), "kv cache", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["query"] == "kv cache"
    top = out["results"][:2]
    assert {t["number"] for t in top} == {312, 313}
    assert set(top[0]) == {"rank", "number", "section", "question", "snippet", "highlights", "score"}
    for t in out["results"]:
        for start, end in t["highlights"]:
            assert t["snippet"][start:end].lower() in {"kv", "cache", "cached", "caching", "caches"}
    assert [t["rank"] for t in out["results"]] == list(range(1, len(out["results"]) + 1))
    scores = [t["score"] for t in out["results"]]
    assert scores == sorted(scores, reverse=True)


def test_cli_search_text_output(corpus: Path) -> None:
    r = _run("search", str(corpus / "000_8484edd62e7d6ec6.txt"), "kv", "cache", "-n", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert {lines[0].split()[1], lines[2].split()[1]} == {"Q312", "Q313"}
    assert "KV cache" in lines[1] or "KV cache" in lines[3]


def test_cli_errors_and_no_results(tmp_path: Path) -> None:
    r = _run("search", str(tmp_path / "missing.txt"), "x")
    assert r.returncode == 2 and "no such file" in r.stderr
    src = tmp_path / "s.md"
    src.write_text("# T\n\n## S\n\n### 1. What is a tensor?\n\nAn array.\n", encoding="utf-8")
    r = _run("search", str(src), "zebra")
    assert r.returncode == 0 and "No question or answer matches" in r.stdout
    r = _run("search", str(src), "tensor", "--json")
    assert json.loads(r.stdout)["results"][0]["question"] == "What is a tensor?"


def test_stdin_source() -> None:
    md = "# T\n\n## S\n\n### 1. What is a tensor?\n\nAn array.\n"
    r = subprocess.run([sys.executable, "-m", "qabook.cli", "search", "-", "array", "--json"], input=md,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["results"][0]["number"] == 1


def test_question_weighs_more_than_answer() -> None:
    doc = _doc(("What is a gradient?", "Slope of the loss."), ("What is the loss?", "It uses a gradient."))
    assert [h.number for h in search(doc, "gradient")] == [1, 2]


def test_all_words_must_match_else_any() -> None:
    doc = _doc(("alpha beta", "x"), ("alpha", "y"), ("gamma", "z"))
    assert [h.number for h in search(doc, "alpha beta")] == [1]
    assert {h.number for h in search(doc, "alpha delta")} == {1, 2}  # no item has both: any word
    assert search(doc, "delta") == []
    assert search(doc, "   ") == []


def test_exact_phrase_ranks_first() -> None:
    doc = _doc(("cache of the kv store", "kv and a cache"), ("What is the kv cache?", "kv cache holds keys"))
    assert search(doc, "kv cache")[0].number == 2


def test_stemming_prefix_accents_and_syntax_are_safe() -> None:
    doc = _doc(("Caching results", "x"), ("Flashattention", "y"), ("Résumé writing", "z"))
    assert [h.number for h in search(doc, "cache")] == [1]
    assert [h.number for h in search(doc, "flash*")] == [2]
    assert [h.number for h in search(doc, "resume")] == [3]
    for query in ['"', "NEAR(a b)", "a OR", "-x", "col:x", "*", "(", "x AND"]:
        search(doc, query)  # never an FTS5 syntax error
    assert words('Say "hi" (NEAR)*') == ["say", "hi", "near"]


def test_snippet_highlights_the_words_in_the_answer() -> None:
    doc = _doc(("q", "The quick brown fox jumps over the lazy dog"),)
    hit = search(doc, "fox lazy")[0]
    assert [hit.snippet[s:e] for s, e in hit.highlights] == ["fox", "lazy"]
    assert hit.index == 0 and hit.section == "S"


def test_blocks_text_covers_every_block() -> None:
    text = blocks_text(EVERY_NODE.sections[0].items[0].answer)
    for piece in ("a", "b", "x^2", "i", "  x\n\n  y", "\\frac{a}{b}", "q", "h", "c"):
        assert piece in text


def test_common_words_do_not_cost_a_full_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_mod, "COMMON_MIN", 10)
    pairs = [(f"What is item {n}?", f"Answer {n} about things") for n in range(200)]
    pairs[150] = ("What is attention?", "Answer about attention")
    index = SearchIndex.build(_doc(*pairs))
    hits = index.search("what is attention")
    assert [h.number for h in hits] == [151]
    only_common = index.search("what is", limit=5)
    assert [h.number for h in only_common] == [1, 2, 3, 4, 5]  # document order, not ranked


def test_cache_file_is_reused_until_the_source_changes(tmp_path: Path) -> None:
    src = tmp_path / "s.md"
    src.write_text("# T\n\n## S\n\n### 1. What is a tensor?\n\nAn array.\n", encoding="utf-8")
    calls: list[int] = []

    def load() -> Document:
        from qabook.pipeline import load as pipeline_load

        calls.append(1)
        return pipeline_load(None, str(src), path=str(src)).document

    ix = SearchIndex.open_cached(str(src), load)
    assert [h.number for h in ix.search("tensor")] == [1]
    ix.close()
    ix = SearchIndex.open_cached(str(src), load)
    assert [h.number for h in ix.search("array")] == [1]
    ix.close()
    assert len(calls) == 1
    assert (tmp_path / "s.md.qabook-search.sqlite").is_file()
    src.write_text("# T\n\n## S\n\n### 7. What is a matrix?\n\nA table.\n", encoding="utf-8")
    os.utime(src, ns=(time.time_ns(), time.time_ns() + 10**9))
    ix = SearchIndex.open_cached(str(src), load)
    assert [h.number for h in ix.search("matrix")] == [7]
    ix.close()
    assert len(calls) == 2
    r = _run("search", str(src), "table", "--cache", "--json")
    assert json.loads(r.stdout)["results"][0]["number"] == 7
