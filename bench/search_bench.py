"""Search speed on a large collection: ``python bench/search_bench.py [--items N] [--runs R]``.

Builds a document of N items (default 100,000) by repeating the reference case's items in order
(renumbered 1..N, sections of 50), indexes it in memory with :class:`qabook.study.search.SearchIndex`
and times each query R times (default 20), reporting the median and the worst per query, the
index build time and the peak memory of the process. Without the shared corpus a synthetic set of
items is used instead (and said so).

Target: under 50 ms per query on 100,000 items.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "qabook" not in sys.modules and not os.environ.get("QABOOK_BENCH_INSTALLED"):
    sys.path.insert(0, str(ROOT / "src"))

from qabook.model import Document, Item, Paragraph, Section, Text  # noqa: E402
from qabook.study.search import SearchIndex  # noqa: E402

QUERIES = [
    "kv cache",          # two words, a few hundred matches per copy of the reference
    "attention",         # one very common word: matches about a third of all items
    "what is",           # the most common words there are: every item matches
    "what is attention", # common words with a rarer one
    "rotary embedding",  # rare words
    "flash*",            # a prefix
    "quantization int8 weights",
    "zzzz nothing",      # no match: AND, then the OR fallback, both empty
]
TARGET_MS = 50.0


def _reference_items() -> tuple[list[Item], str]:
    shared = Path(os.environ.get("QABOOK_SHARED", ROOT.parent / "shared"))
    ref = shared / "corpus" / "000_8484edd62e7d6ec6.txt"
    if ref.is_file():
        from qabook.pipeline import load

        doc = load(ref.read_bytes(), ref.name).document
        return list(doc.items()), f"the reference case ({ref.name}), repeated"
    words = ("attention cache kv transformer token embedding rotary quantization weights flash layer "
             "norm gradient loss model decoder encoder softmax").split()
    items = []
    for i in range(500):
        q = f"What is {words[i % len(words)]} {words[(i * 7) % len(words)]}?"
        a = " ".join(words[(i * k) % len(words)] for k in range(1, 60))
        items.append(Item(i + 1, (Text(q),), (Paragraph((Text(a),)),)))
    return items, "synthetic items (shared corpus not found)"


def build_document(n: int) -> tuple[Document, str]:
    base, what = _reference_items()
    sections: list[Section] = []
    batch: list[Item] = []
    for i in range(n):
        src = base[i % len(base)]
        batch.append(Item(i + 1, src.question, src.answer, src.status))
        if len(batch) == 50:
            sections.append(Section(f"Questions ({i - 48}–{i + 1})", tuple(batch)))
            batch = []
    if batch:
        sections.append(Section(f"Questions ({n - len(batch) + 1}–{n})", tuple(batch)))
    return Document("Bench", "bench", tuple(sections)), what


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()

    t0 = time.perf_counter()
    doc, what = build_document(args.items)
    t1 = time.perf_counter()
    index = SearchIndex.build(doc)
    t2 = time.perf_counter()
    print(f"items: {args.items:,} from {what}")
    print(f"document built in {t1 - t0:.2f} s; index built in {t2 - t1:.2f} s "
          f"({len(index):,} rows, in memory)")
    print(f"{'query':<30} {'hits':>5} {'median ms':>10} {'worst ms':>9}")
    worst_median = 0.0
    for q in QUERIES:
        times = []
        hits = []
        for _ in range(args.runs):
            s = time.perf_counter()
            hits = index.search(q, args.limit)
            times.append((time.perf_counter() - s) * 1000)
        med = statistics.median(times)
        worst_median = max(worst_median, med)
        print(f"{q!r:<30} {len(hits):>5} {med:>10.2f} {max(times):>9.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = worst_median < TARGET_MS
    print(f"peak memory: {peak:.0f} MiB")
    print(f"target: median under {TARGET_MS:.0f} ms per query — {'met' if ok else 'NOT met'} "
          f"(slowest median {worst_median:.2f} ms)")
    index.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
