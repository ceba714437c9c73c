"""Reproducible benchmarks for qabook, side by side with pandoc and python-docx.

``python bench/run.py --large`` is the full run the project publishes (``docs/benchmarks.md`` and
the plot ``docs/images/benchmarks.png``); ``--quick`` is a short check while working.

What it does
------------
1. Builds inputs in ``bench/work/`` (gitignored):

   * the reference case, the transcript ``000_8484edd62e7d6ec6.txt`` from the shared corpus
     (``<repo>/../shared/corpus``; the environment variable ``QABOOK_SHARED`` names another
     shared folder, or the corpus folder itself), plus the same document as qabook Markdown;
   * collections of 1,000 and 10,000 items (100,000 with ``--large``) made by repeating the
     reference case's items in order, renumbered 1..N, in sections of 50 items, written with
     qabook's own Markdown writer. The same file is pandoc's input. For python-docx the items are
     also written as JSON with every answer block reduced to plain text. A copy without the
     writer's signature line (``items-N-generic.md``, 1,000 and 10,000 items) makes qabook use its
     general Markdown reader rather than the fast path for its own files;
   * a synthetic ChatGPT export (``conversations.json``) of 200 MB (``--export-size``), written by
     ``bench/export_bench.py``'s generator (seeded: every run writes the same file; kept and reused).

2. Measures each command in a fresh subprocess (so interpreter start-up, imports and memory are
   real): wall time (``time.perf_counter`` around spawn and reap), CPU time (user + sys of that
   child and what it forked, from ``os.wait4``) and peak memory: the larger of ``ru_maxrss``
   (the largest single process) and the largest sum of proportional set sizes of the command's
   process tree, sampled every 50 ms (for a command that works in two processes at once). The child is
   spawned by the tiny helper ``bench/_spawn.py``, because on Linux a child spawned straight from
   this runner would report the runner's own peak RSS (see that module).
   Each figure is the median of ``--runs`` runs (default 3), after one unmeasured warm-up run
   of each Python command with its bytecode cache in ``bench/work/pycache``.

   * qabook: ``qabook convert INPUT -o out.docx -q`` and the same to Markdown (``.md``), HTML
     (``.html``) and Anki (``.apkg``), and ``qabook check INPUT --json`` (the review);
   * pandoc (``pandoc in.md -o out.docx``), the binary shipped by ``pypandoc-binary`` or the one
     on ``PATH``;
   * python-docx (``bench/python_docx_peer.py``): heading + one paragraph per answer block;
   * the export: ``qabook convert conversations.json -o out.docx -q``.

   Peers get a time limit per run (``--timeout``, default 120 s); a size where a peer's smaller
   run already shows it cannot finish in time is skipped and said so. ``--quick`` runs once per
   row, leaves python-docx out above 1,000 items (it is quadratic in document length), and skips
   the export and the profile.

3. Prints a table and writes a report (``docs/benchmarks.md`` by default, ``--doc`` elsewhere;
   ``--quick``: ``bench/work/benchmarks-quick.md``) with a plot of time and memory against size
   in ``images/benchmarks.png`` beside it: machine facts, the table with each tool's time and
   memory as a ratio to qabook's, the issue's targets with pass/fail, a cProfile of the
   10,000-item DOCX conversion, and how to reproduce.

Install the peers and matplotlib with ``pip install -e '.[bench]'``; missing peers are skipped
with a note, and without matplotlib there is no plot.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from qabook.model import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    Item,
    MathBlock,
    OrderedList,
    Paragraph,
    Quote,
    Rule,
    Section,
    Table,
    plain_text,
)
from qabook.pipeline import load
from qabook.writers import markdown as markdown_writer
from qabook.writers.markdown import render

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"
REFERENCE_NAME = "000_8484edd62e7d6ec6.txt"
SECTION_SIZE = 50
PROFILE_ITEMS = 10_000
PROFILE_TOP = 10

# The targets of the issue on scale and speed (reported as pass/fail, never tuned here).
TARGET_REFERENCE_WALL_S = 0.5
TARGET_10K_WALL_S = 2.0
TARGET_10K_PEAK_MB = 150.0
TARGET_10K_FASTER_THAN_PANDOC = 20.0
TARGET_10K_LESS_MEMORY_THAN_PANDOC = 40.0
TARGET_100K_WALL_S = 20.0
TARGET_100K_MEMORY_VS_10K = 1.5
TARGET_100K_TIME_VS_10K = 12.0
TARGET_EXPORT_WALL_S = 60.0
TARGET_EXPORT_PEAK_MB = 400.0
EXPORT_SIZE = "200MB"
EXPORT_SEED = 1

QABOOK_DOCX = "qabook → DOCX"
QABOOK_MD = "qabook → Markdown"
QABOOK_HTML = "qabook → HTML"
QABOOK_ANKI = "qabook → Anki (.apkg)"
QABOOK_CHECK = "qabook check"
PANDOC = "pandoc → DOCX"
PYTHON_DOCX = "python-docx → DOCX"
STARTUP = "qabook --version (start-up only)"
QABOOK_FORMATS = ((QABOOK_DOCX, "docx"), (QABOOK_MD, "md"), (QABOOK_HTML, "html"), (QABOOK_ANKI, "apkg"))
"""qabook's outputs measured on every input: (tool, file extension)."""
GENERIC_MAX_ITEMS = 10_000
"""The general-reader copy is measured up to this size (it is for information, and slow)."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Case:
    """One input size: the files every tool reads for it."""

    name: str
    """``reference``, ``1,000 items``, ..."""
    items: int
    markdown: Path
    """qabook-layout Markdown (qabook's and pandoc's input)."""
    plain: Path
    """The same items as plain-text JSON (python-docx's input)."""
    transcript: Path | None = None
    """The raw transcript, for the reference case only."""
    generic: Path | None = None
    """The Markdown without qabook's signature line, so qabook reads it as any Markdown."""
    export: Path | None = None
    """A synthetic ChatGPT export (then ``markdown`` and ``plain`` are unused)."""
    size_mb: float = 0.0
    """The export's size in MB (10^6 bytes)."""
    conversations: int = 0
    """The export's conversations."""


def shared_corpus() -> Path:
    """The shared corpus folder: ``QABOOK_SHARED`` (shared folder or corpus) or ``<repo>/../shared/corpus``."""
    override = os.environ.get("QABOOK_SHARED", "").strip()
    if override:
        base = Path(override).expanduser()
        return base / "corpus" if (base / "corpus").is_dir() else base
    return Path(__file__).resolve().parents[2] / "shared" / "corpus"


def block_text(block: Block) -> str:
    """A block reduced to plain text (lists one entry a line, tables one row a line)."""
    match block:
        case Paragraph(inlines=inl):
            return plain_text(inl)
        case BulletList(items=entries):
            return "\n".join("• " + "\n".join(block_text(b) for b in e.blocks) for e in entries)
        case OrderedList(items=entries, start=start):
            return "\n".join(f"{start + i}. " + "\n".join(block_text(b) for b in e.blocks)
                             for i, e in enumerate(entries))
        case CodeBlock(text=t):
            return t
        case MathBlock(tex=t):
            return t
        case Quote(blocks=bs):
            return "\n".join(block_text(b) for b in bs)
        case Table(header=header, rows=rows):
            return "\n".join("\t".join(plain_text(c) for c in row) for row in (header, *rows))
        case Rule():
            return "—"
        case _:
            typing.assert_never(block)


def write_inputs(doc: Document, markdown: Path, plain: Path) -> None:
    """Write ``doc`` as qabook Markdown and as python-docx's plain-text JSON."""
    markdown.write_text(render(doc), encoding="utf-8")
    data = {
        "title": doc.title,
        "sections": [
            {
                "title": s.title,
                "items": [
                    {
                        "question": (f"{it.number}. " if it.number is not None else "")
                        + plain_text(it.question),
                        "blocks": [block_text(b) for b in it.answer],
                    }
                    for it in s.items
                ],
            }
            for s in doc.sections
        ],
    }
    plain.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def write_generic(markdown: Path, generic: Path) -> bool:
    """Copy ``markdown`` without the signature line qabook's writer starts it with, if any.

    qabook reads its own Markdown (recognised by that line) on a dedicated fast path; without the
    line the same text goes through the general Markdown reader, as hand-written notes do.
    """
    signature = getattr(markdown_writer, "SIGNATURE", None)
    text = markdown.read_text(encoding="utf-8")
    if not isinstance(signature, str) or not text.startswith(signature):
        return False
    generic.write_text(text[len(signature):].lstrip("\n"), encoding="utf-8")
    return True


def collection(items: list[Item], n: int) -> Document:
    """``n`` items made by repeating ``items`` in order, renumbered 1..n, in sections of 50."""
    numbered = [dataclasses.replace(items[k % len(items)], number=k + 1) for k in range(n)]
    sections = tuple(
        Section(title=f"Items {i + 1}-{min(i + SECTION_SIZE, n)}",
                items=tuple(numbered[i:i + SECTION_SIZE]))
        for i in range(0, n, SECTION_SIZE)
    )
    return Document(title=f"Benchmark collection of {n:,} items", source=f"items-{n}.md",
                    sections=sections)


def build_inputs(sizes: list[int], notes: list[str]) -> list[Case]:
    """Write every input into ``bench/work/`` and describe them."""
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "out").mkdir(exist_ok=True)
    cases: list[Case] = []
    reference = shared_corpus() / REFERENCE_NAME
    if reference.is_file():
        result = load(reference.read_bytes(), reference.name)
        doc = result.document
        md, js = WORK / "reference.md", WORK / "reference.json"
        write_inputs(doc, md, js)
        cases.append(Case("reference", result.report.items, md, js, transcript=reference))
    else:
        notes.append(f"Reference case skipped: {reference} not found (set QABOOK_SHARED). "
                     "The collections repeat the items of qabook's bundled demo transcript "
                     "instead, so their figures are not comparable with those below.")
        print(f"bench: {reference} not found; using the bundled demo transcript", file=sys.stderr)
        data = resources.files("qabook.examples").joinpath("demo-transcript.txt").read_bytes()
        doc = load(data, "demo-transcript.txt").document
    items = list(doc.items())
    for n in sizes:
        md, js = WORK / f"items-{n}.md", WORK / f"items-{n}.json"
        write_inputs(collection(items, n), md, js)
        generic = WORK / f"items-{n}-generic.md"
        has_generic = n <= GENERIC_MAX_ITEMS and write_generic(md, generic)
        cases.append(Case(f"{n:,} items", n, md, js, generic=generic if has_generic else None))
    return cases


def build_export(size: int, notes: list[str]) -> Case | None:
    """The synthetic ChatGPT export of ``size`` bytes in ``bench/work/`` (made once, then reused)."""
    sys.path.insert(0, str(BENCH))
    try:
        export_bench = importlib.import_module("export_bench")
    finally:
        sys.path.remove(str(BENCH))
    path = WORK / f"export-{size // 1_000_000}MB-seed{EXPORT_SEED}.json"
    stamp = path.with_suffix(".items")
    if not (path.is_file() and stamp.is_file() and path.stat().st_size >= size):
        free = shutil.disk_usage(WORK).free
        if free < size * 3:
            notes.append(f"The export was not measured: {free / 1e9:.1f} GB free in {WORK}, "
                         f"about {size * 3 / 1e9:.1f} GB needed.")
            return None
        print(f"writing a synthetic ChatGPT export of {size / 1e6:,.0f} MB")
        _, conversations, _ = export_bench.generate(path, size, EXPORT_SEED)
        stamp.write_text(f"{conversations}\n", encoding="utf-8")
    conversations = int(stamp.read_text(encoding="utf-8").split()[0])
    return Case(f"{size / 1e6:,.0f} MB export", 0, path, path, export=path,
                size_mb=path.stat().st_size / 1e6, conversations=conversations)


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall: float
    cpu: float
    peak_mb: float


class TimedOut(Exception):
    """A run exceeded its time limit and was killed."""


class Failed(Exception):
    """A run exited with a non-zero status."""


def child_env() -> dict[str, str]:
    """The environment for measured commands: Python bytecode cached, as in a normal install.

    Some environments set ``PYTHONDONTWRITEBYTECODE``, which makes every run of an editable
    install compile qabook's modules again; the cache goes to ``bench/work/pycache`` instead of
    the source tree. :func:`warm_up` fills it before anything is measured.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def run_once(argv: list[str], timeout: float | None, ok: tuple[int, ...] = (0,)) -> Sample:
    """Run ``argv`` in a fresh process (through ``bench/_spawn.py``); its own wall, CPU and peak RSS.

    ``ok``: the exit statuses of a successful run (``qabook check`` exits 1 when it has findings).
    """
    with tempfile.NamedTemporaryFile(prefix="stderr-", dir=WORK) as err:
        helper = [sys.executable, "-S", "-I", str(BENCH / "_spawn.py"), str(timeout or 0), err.name, "--"]
        done = subprocess.run(helper + argv, capture_output=True, text=True, env=child_env())
        if done.returncode != 0:
            raise Failed(f"measuring helper failed: {done.stderr.strip()}")
        figures = json.loads(done.stdout)
        if figures["timed_out"]:
            raise TimedOut
        if figures["status"] not in ok:
            raise Failed(f"{' '.join(argv)} exited with {figures['status']}: "
                         f"{Path(err.name).read_text(errors='replace')[-2000:]}")
    # Linux reports ru_maxrss in KiB
    return Sample(figures["wall"], figures["cpu"], max(figures["maxrss_kib"], figures["tree_pss_kib"]) / 1024)


@dataclass
class Row:
    """One line of the results table."""

    case: str
    input: str
    items: int
    tool: str
    samples: list[Sample] = dataclasses.field(default_factory=list)
    note: str = ""
    size_mb: float = 0.0
    """The input's size in MB (for the export, whose size is its measure)."""

    def median(self, field: str) -> float | None:
        """Median of one :class:`Sample` field over the runs, or None if nothing ran."""
        if not self.samples:
            return None
        return float(statistics.median(getattr(s, field) for s in self.samples))


def measure(row: Row, argv: list[str], runs: int, timeout: float | None, ok: tuple[int, ...] = (0,)) -> Row:
    """Fill ``row`` with ``runs`` samples of ``argv`` (stopping at the first time-out)."""
    print(f"  {row.case:>14} | {row.tool:<32} ", end="", flush=True)
    for _ in range(runs):
        try:
            row.samples.append(run_once(argv, timeout, ok))
        except TimedOut:
            row.samples.clear()
            row.note = f"stopped after {timeout:.0f} s (did not finish)"
            break
    wall, peak = row.median("wall"), row.median("peak_mb")
    print(f"{wall:8.3f} s {peak:8.1f} MB" if wall is not None and peak is not None else row.note, flush=True)
    return row


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Tools:
    """Where each tool is, or why it is missing."""

    qabook: str
    pandoc: str | None
    pandoc_version: str
    python_docx: bool
    python_docx_version: str


def find_tools() -> Tools:
    """Locate qabook's console script, pandoc and python-docx."""
    qabook = Path(sys.executable).parent / "qabook"
    qabook_cmd = str(qabook) if qabook.exists() else shutil.which("qabook")
    if not qabook_cmd:
        sys.exit("bench: the qabook command is not installed in this environment "
                 "(pip install -e '.[bench]')")
    pandoc: str | None = None
    try:
        pandoc = str(importlib.import_module("pypandoc").get_pandoc_path())
    except (ImportError, OSError):
        pandoc = shutil.which("pandoc")
    version = "not installed"
    if pandoc:
        first = subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout
        version = first.splitlines()[0] if first else "unknown"
    try:
        docx_version = metadata.version("python-docx")
        has_docx = True
    except metadata.PackageNotFoundError:
        docx_version, has_docx = "not installed", False
    return Tools(qabook_cmd, pandoc, version, has_docx, docx_version)


def qabook_argv(tools: Tools, inp: Path, out: Path) -> list[str]:
    """The command that converts ``inp`` to ``out`` (format by extension), or reviews it (``.json``
    output named ``*-check.json``)."""
    if out.name.endswith("-check.json"):
        return [tools.qabook, "check", str(inp), "--json"]
    return [tools.qabook, "convert", str(inp), "-o", str(out), "-q"]


def warm_up(case: Case, tools: Tools) -> None:
    """Run every Python command once, unmeasured, so their bytecode cache is filled."""
    out = WORK / "out"
    run_once([tools.qabook, "--version"], None)
    for inp in (case.transcript, case.markdown):
        if inp:
            for _, suffix in QABOOK_FORMATS:
                run_once(qabook_argv(tools, inp, out / f"warm-up.{suffix}"), None)
            run_once(qabook_argv(tools, inp, out / "warm-up-check.json"), None, ok=(0, 1))
    if tools.python_docx:
        run_once([sys.executable, str(BENCH / "python_docx_peer.py"), str(case.plain),
                  str(out / "warm-up-python-docx.docx")], None)


def run_all(cases: list[Case], tools: Tools, runs: int, timeout: float, quick: bool,
            notes: list[str]) -> list[Row]:
    """Measure every tool on every case."""
    out = WORK / "out"
    rows: list[Row] = []
    print(f"measuring, median of {runs} run(s) each (wall, peak memory):")
    rows.append(measure(Row("start-up", "—", 0, STARTUP), [tools.qabook, "--version"], runs, None))
    # per peer: (items, median wall) of the largest size it finished, to decide whether a bigger
    # one can finish within the time limit; and why it is skipped from now on, once it timed out
    last_peer: dict[str, tuple[int, float]] = {}
    skipped_for_good: dict[str, str] = {}

    def skip(row: Row, note: str) -> None:
        row.note = note
        rows.append(row)
        print(f"  {row.case:>14} | {row.tool:<32} {row.note}")

    def peer(row: Row, argv: list[str]) -> None:
        prior = last_peer.get(row.tool)
        if prior is None and row.tool in skipped_for_good:
            skip(row, skipped_for_good[row.tool])
            return
        if prior and prior[1] * row.items / prior[0] > timeout:
            skip(row, f"skipped: {prior[1]:.1f} s at {prior[0]:,} items; even linear growth "
                      f"gives > {timeout:.0f} s here")
            return
        measure(row, argv, runs, timeout)
        wall = row.median("wall")
        if wall is not None:
            last_peer[row.tool] = (row.items, wall)
        else:
            skipped_for_good[row.tool] = f"skipped: stopped after {timeout:.0f} s at fewer items"
        rows.append(row)

    if not tools.pandoc:
        notes.append("pandoc is not installed (pip install pypandoc-binary, or put pandoc on PATH): "
                     "its rows are missing.")
    if not tools.python_docx:
        notes.append("python-docx is not installed (pip install python-docx): its rows are missing.")
    for case in cases:
        base = Row(case.name, "", case.items, "", size_mb=case.size_mb)
        if case.export:
            rows.append(measure(dataclasses.replace(base, input=case.export.name, tool=QABOOK_DOCX, samples=[]),
                                qabook_argv(tools, case.export, out / "export-qabook.docx"), runs, None))
            continue
        tag = case.markdown.stem
        inputs: list[Path] = [case.transcript] if case.transcript else []
        inputs.append(case.markdown)
        for inp in inputs:
            # qabook on the reference transcript; on Markdown in every format but the one it reads
            for tool, suffix in QABOOK_FORMATS:
                if inp.suffix == ".md" and case.transcript and tool != QABOOK_DOCX:
                    continue
                dest = out / f"{tag}-{inp.suffix[1:]}-qabook.{suffix}"
                rows.append(measure(dataclasses.replace(base, input=inp.name, tool=tool, samples=[]),
                                    qabook_argv(tools, inp, dest), runs, None))
            if inp.suffix != ".md" or not case.transcript:
                rows.append(measure(dataclasses.replace(base, input=inp.name, tool=QABOOK_CHECK, samples=[]),
                                    qabook_argv(tools, inp, out / f"{tag}-check.json"), runs, None, ok=(0, 1)))
        if case.generic:
            rows.append(measure(dataclasses.replace(base, input=case.generic.name, tool=QABOOK_DOCX,
                                                    samples=[]),
                                qabook_argv(tools, case.generic, out / f"{tag}-generic-qabook.docx"), runs, None))
        md_name = case.markdown.name
        if tools.pandoc:
            peer(dataclasses.replace(base, input=md_name, tool=PANDOC, samples=[]),
                 [tools.pandoc, str(case.markdown), "-o", str(out / f"{tag}-pandoc.docx")])
        if tools.python_docx:
            row = dataclasses.replace(base, input=md_name, tool=PYTHON_DOCX, samples=[])
            if quick and case.items > 1_000:
                skip(row, "skipped (--quick): quadratic, run without --quick")
            else:
                peer(row, [sys.executable, str(BENCH / "python_docx_peer.py"), str(case.plain),
                           str(out / f"{tag}-python-docx.docx")])
    return rows


# --------------------------------------------------------------------------- profile

def _where(path: str, line: int, func: str) -> str:
    """A short name for a profiled function: package-relative path, line and name."""
    p = path.replace("\\", "/")
    for marker in ("/site-packages/", "/src/", "/lib/python"):
        if marker in p:
            p = p.split(marker, 1)[1]
            if marker == "/lib/python":
                p = p.split("/", 1)[1] if "/" in p else p
            break
    return f"{func} ({p}:{line})" if line else func


ProfileRow = tuple[str, int, float, float]
"""(function, calls, own s, cumulative s)."""


@dataclass(frozen=True)
class Profile:
    """Where one qabook conversion spends its time."""

    input: str
    stages: list[tuple[str, float]]
    """Wall seconds per pipeline stage, measured without a profiler."""
    profiled_s: float
    by_cumulative: list[ProfileRow]
    by_own: list[ProfileRow]


def profile(markdown: Path) -> Profile:
    """Stage times and a cProfile of ``load`` + ``write_file`` on ``markdown`` to DOCX.

    Each in its own fresh process (``bench/_profile.py``), so neither disturbs the other.
    """
    script, out = str(BENCH / "_profile.py"), str(WORK / "out" / "profile.docx")
    done = subprocess.run([sys.executable, script, "stages", str(markdown), out],
                          stdout=subprocess.PIPE, text=True, check=True, env=child_env())
    stage_list = [(str(name), float(sec)) for name, sec in json.loads(done.stdout)]
    dump = WORK / "profile.pstats"
    subprocess.run([sys.executable, script, "cprofile", str(markdown), out, str(dump)], check=True,
                   env=child_env())
    stats = pstats.Stats(str(dump))
    raw = typing.cast(dict[tuple[str, int, str], tuple[int, int, float, float, typing.Any]],
                      stats.stats)  # type: ignore[attr-defined]
    entries = [(_where(*k), v[1], v[2], v[3]) for k, v in raw.items()
               if not k[2].startswith("<method 'disable'") and not k[0].endswith("_profile.py")]
    total = typing.cast(float, stats.total_tt)  # type: ignore[attr-defined]
    return Profile(markdown.name, stage_list, total,
                   sorted(entries, key=lambda e: -e[3])[:PROFILE_TOP],
                   sorted(entries, key=lambda e: -e[2])[:PROFILE_TOP])


def profile_text(prof: Profile) -> list[str]:
    """The profile as Markdown lines."""
    total = dict(prof.stages).get("total", 0.0) or 1.0
    header = ["| function | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
    return [
        f"## Where qabook's time goes ({prof.input} → DOCX)",
        "",
        "Wall time per stage of the conversion by one process (as `qabook convert` streams it, "
        "without a second process), in one fresh process, no profiler (interpreter start-up, "
        "imports and the command line excluded):",
        "",
        "| stage | s | share |",
        "|---|---:|---:|",
        *[f"| {name} | {sec:.3f} | {'' if name == 'total' else f'{sec / total:.0%}'} |"
          for name, sec in prof.stages],
        "",
        f"cProfile of the same conversion ({prof.profiled_s:.2f} s under the profiler, whose "
        "overhead inflates small, often-called functions). Top functions by cumulative time:",
        "",
        *header,
        *[f"| `{f}` | {c:,} | {o:.3f} | {cu:.3f} |" for f, c, o, cu in prof.by_cumulative],
        "",
        "Top functions by own time:",
        "",
        *header,
        *[f"| `{f}` | {c:,} | {o:.3f} | {cu:.3f} |" for f, c, o, cu in prof.by_own],
        "",
    ]


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _baselines(rows: list[Row]) -> dict[tuple[str, str], Row]:
    """qabook → DOCX per (case, input): what every other row on that input is compared with."""
    return {(r.case, r.input): r for r in rows if r.tool == QABOOK_DOCX and r.samples}


def ratio(row: Row, base: Row | None, field: str) -> float | None:
    """``row``'s median ``field`` over ``base``'s (peer ÷ qabook), or None."""
    value, ref = row.median(field), base.median(field) if base else None
    return value / ref if value is not None and ref else None


def results_table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    base = _baselines(rows)
    lines = ["| input | items | tool | wall s | CPU s | peak MB | time ÷ qabook | memory ÷ qabook |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ref = base.get((r.case, r.input))
        t, m = ratio(r, ref, "wall"), ratio(r, ref, "peak_mb")
        tool = f"{r.tool} — {r.note}" if r.note else r.tool
        items = f"{r.items:,}" if r.items else (f"{r.size_mb:,.0f} MB" if r.size_mb else "—")
        lines.append(f"| {r.input} | {items} | {tool} | {_fmt(r.median('wall'), 3)} | "
                     f"{_fmt(r.median('cpu'), 3)} | {_fmt(r.median('peak_mb'), 1)} | "
                     f"{'—' if t is None or r is ref else f'{t:.2f}×'} | "
                     f"{'—' if m is None or r is ref else f'{m:.2f}×'} |")
    return "\n".join(lines)


def _find(rows: list[Row], case: str, tool: str, input_ok: typing.Callable[[str], bool]) -> Row | None:
    for r in rows:
        if r.case == case and r.tool == tool and input_ok(r.input) and r.samples:
            return r
    return None


def targets(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each of the issue's targets, measured or not."""
    def runs(row: Row, field: str, digits: int) -> str:
        return ", ".join(f"{getattr(s, field):.{digits}f}" for s in row.samples)

    def limit(target: str, row: Row | None, field: str, unit: str, most: float,
              why: str = "not measured") -> tuple[str, str, str]:
        if row is None:
            return target, why, "—"
        digits = 3 if unit == "s" else 1
        value = typing.cast(float, row.median(field))
        return (target, f"{value:.{digits}f} {unit} (runs: {runs(row, field, digits)})",
                "pass" if value <= most else "FAIL")

    def times(target: str, num: Row | None, den: Row | None, field: str, least: float | None = None,
              most: float | None = None) -> tuple[str, str, str]:
        if num is None or den is None:
            return target, "not measured", "—"
        value = typing.cast(float, ratio(num, den, field))
        unit = "s" if field == "wall" else "MB"
        digits = 3 if unit == "s" else 1
        measured = (f"{value:.2f}× ({num.median(field):.{digits}f} {unit} / "
                    f"{den.median(field):.{digits}f} {unit})")
        cpu = ratio(num, den, "cpu") if field == "wall" else None
        if cpu is not None:
            measured += f"; CPU time {cpu:.2f}×"
        ok = (least is None or value >= least) and (most is None or value <= most)
        return target, measured, "pass" if ok else "FAIL"

    own = lambda name: not name.endswith("-generic.md")  # noqa: E731 - qabook's own Markdown
    ref = _find(rows, "reference", QABOOK_DOCX, lambda name: name.endswith(".txt"))
    k10 = _find(rows, "10,000 items", QABOOK_DOCX, own)
    k100 = _find(rows, "100,000 items", QABOOK_DOCX, own)
    pandoc10 = _find(rows, "10,000 items", PANDOC, own)
    export = next((r for r in rows if r.size_mb and r.tool == QABOOK_DOCX and r.samples), None)
    target_mb = int(EXPORT_SIZE.removesuffix("MB"))
    why = "not measured"
    if export is not None and abs(export.size_mb - target_mb) > 0.05 * target_mb:
        why = f"not measured (this run's export was {export.size_mb:,.0f} MB)"
        export = None
    label = f"{target_mb} MB ChatGPT export"
    return [
        limit(f"10,000 items → DOCX: ≤ {TARGET_10K_WALL_S:g} s wall", k10, "wall", "s", TARGET_10K_WALL_S),
        limit(f"10,000 items → DOCX: ≤ {TARGET_10K_PEAK_MB:g} MB peak", k10, "peak_mb", "MB",
              TARGET_10K_PEAK_MB),
        times(f"10,000 items → DOCX: at least {TARGET_10K_FASTER_THAN_PANDOC:g}× faster than pandoc "
              "(pandoc's wall ÷ qabook's)", pandoc10, k10, "wall", least=TARGET_10K_FASTER_THAN_PANDOC),
        times(f"10,000 items → DOCX: at least {TARGET_10K_LESS_MEMORY_THAN_PANDOC:g}× less memory than "
              "pandoc (pandoc's peak ÷ qabook's)", pandoc10, k10, "peak_mb",
              least=TARGET_10K_LESS_MEMORY_THAN_PANDOC),
        limit(f"100,000 items → DOCX: ≤ {TARGET_100K_WALL_S:g} s wall", k100, "wall", "s", TARGET_100K_WALL_S),
        times(f"100,000 items → DOCX: peak memory within {TARGET_100K_MEMORY_VS_10K:g}× of the "
              "10,000-item run (memory flat)", k100, k10, "peak_mb", most=TARGET_100K_MEMORY_VS_10K),
        times(f"100,000 items → DOCX: time within {TARGET_100K_TIME_VS_10K:g}× of the 10,000-item run "
              "(linear)", k100, k10, "wall", most=TARGET_100K_TIME_VS_10K),
        limit(f"{label} → DOCX: ≤ {TARGET_EXPORT_WALL_S:g} s wall", export, "wall", "s", TARGET_EXPORT_WALL_S,
              why),
        limit(f"{label} → DOCX: ≤ {TARGET_EXPORT_PEAK_MB:g} MB peak", export, "peak_mb", "MB",
              TARGET_EXPORT_PEAK_MB, why),
        limit(f"The reference case → DOCX: ≤ {TARGET_REFERENCE_WALL_S:g} s wall including interpreter start",
              ref, "wall", "s", TARGET_REFERENCE_WALL_S),
    ]


def plot(rows: list[Row], path: Path) -> bool:
    """Time and peak memory against collection size, one line per tool, as a PNG at ``path``.

    False (and no file) without matplotlib or with fewer than two sizes measured.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    tools = [QABOOK_DOCX, QABOOK_MD, QABOOK_HTML, QABOOK_ANKI, QABOOK_CHECK, PANDOC, PYTHON_DOCX]
    series: dict[str, list[tuple[int, float, float]]] = {t: [] for t in tools}
    for r in rows:
        wall, peak = r.median("wall"), r.median("peak_mb")
        if r.case.endswith(" items") and r.tool in series and wall is not None and peak is not None \
                and not r.input.endswith("-generic.md"):
            series[r.tool].append((r.items, wall, peak))
    if len({n for points in series.values() for n, _, _ in points}) < 2:
        return False
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)
    for tool, points in series.items():
        if not points:
            continue
        points.sort()
        style = {"linestyle": "--", "marker": "s"} if not tool.startswith("qabook") else {"marker": "o"}
        xs = [p[0] for p in points]
        ax_time.plot(xs, [p[1] for p in points], label=tool, **style)
        ax_mem.plot(xs, [p[2] for p in points], label=tool, **style)
    for ax, title, unit in ((ax_time, "Wall time", "seconds"), (ax_mem, "Peak memory (all its processes)", "MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("items (qabook Markdown, repeated reference items)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", linewidth=0.4, alpha=0.5)
    ax_time.legend(fontsize=8)
    fig.suptitle("qabook, pandoc and python-docx against collection size (fresh process per run, median)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return True


def _read(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def speed_probe() -> float:
    """Milliseconds a fixed pure-Python loop takes on this machine now (best of five).

    A shared or virtual machine runs at different speeds from hour to hour; the probe, taken at the
    start and the end of a run, says how fast it was, so two reports can be compared fairly."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return best * 1000


SPEED: list[float] = []
"""The speed probe at the start and at the end of the run."""


def machine_facts(tools: Tools, load_at_start: float) -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = _read("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    mem = _read("/proc/meminfo", "MemTotal")
    mem_text = f"{int(mem.split()[0]) / 1024 / 1024:.1f} GiB" if mem else "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        commit += ", plus uncommitted changes under src/"
    load_now = os.getloadavg()[0]
    return [
        ("CPU", cpu),
        ("Cores", f"{os.cpu_count()} logical ({usable} usable by this process)"),
        ("Memory", mem_text),
        ("Load average (1 min)", f"{load_at_start:.2f} at the start, {load_now:.2f} at the end of the run"
                                 + (" — other work was running, so figures are noisier than on an idle "
                                    "machine" if max(load_at_start, load_now) > 0.5 else "")),
        ("Speed probe", " and ".join(f"{ms:.0f} ms" for ms in SPEED) + " (a fixed Python loop, best of "
         "five, at the start and at the end of the run: a shared machine's speed changes from hour to "
         "hour, and the figures above change with it; compare reports by this line)"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("qabook", f"{metadata.version('qabook')} (commit {commit})"),
        ("pandoc", tools.pandoc_version),
        ("python-docx", tools.python_docx_version),
    ]


def command_line(args: argparse.Namespace) -> str:
    """The command that made the report, as one would type it."""
    parts = ["python bench/run.py"]
    parts += [flag for flag, on in (("--quick", args.quick), ("--large", args.large)) if on]
    parts.append(f"--runs {args.runs}")
    if not args.quick and args.export_size != EXPORT_SIZE:
        parts.append(f"--export-size {args.export_size}")
    if args.no_export:
        parts.append("--no-export")
    return " ".join(parts)


def document(rows: list[Row], tools: Tools, args: argparse.Namespace, notes: list[str],
             profiles: list[Profile], elapsed: float, load_at_start: float, image: str | None,
             export: Case | None) -> str:
    """The whole report as Markdown (``image``: the plot's path relative to the report)."""
    mode = "--quick" if args.quick else "full (default)"
    parts = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py` from a run on the machine below; do not edit by hand — "
        "rerun the script instead.",
        "",
        f"Run: {dt.date.today().isoformat()}, mode {mode}, median of {args.runs} run(s) per row, "
        f"{elapsed:.0f} s in all. Command: `{command_line(args)}`.",
        "",
        "## Machine",
        "",
        *[f"- **{k}:** {v}" for k, v in machine_facts(tools, load_at_start)],
        "",
        "## Targets",
        "",
        "The targets of the issue on scale and speed, each with this run's figure (the median; every "
        "run in brackets):",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        *[f"| {t} | {m} | {v} |" for t, m, v in targets(rows)],
        "",
        "## Results",
        "",
    ]
    if image:
        parts += [f"![Wall time and peak memory against the number of items]({image})", ""]
    parts += [
        results_table(rows),
        "",
        "- Every row is a fresh process: interpreter start-up and imports are included.",
        "- *wall s*: spawn to exit; *CPU s*: user + system time of that process and of the "
        "processes it forked; *peak MB*: the larger of its peak resident set (`ru_maxrss`, "
        "MiB: the largest single process) and the largest sum of the proportional set sizes "
        "(PSS) of all its processes, sampled every 50 ms (reading them slows the command a little, "
        "so not more often): qabook converts a big file of its own "
        "Markdown in two processes when a core is free, and the pages the second process shares "
        "with the first count once. Measured by the small helper `bench/_spawn.py`, so the "
        "runner's own memory cannot leak into the peak (on Linux `ru_maxrss` survives fork and "
        "exec).",
        "- *time ÷ qabook*, *memory ÷ qabook*: the row's median wall time and peak memory over those of "
        "qabook → DOCX on the same input file; for pandoc and python-docx, how many times slower "
        "and bigger than qabook they are.",
        "- qabook's rows: `qabook convert INPUT -o OUT -q` with OUT ending in `.docx`, `.md`, `.html` "
        "or `.apkg`, and `qabook check INPUT --json` (the review, which exits 1 when it has findings; "
        "the repeated collections have many).",
        "- Python bytecode is cached (in `bench/work/pycache`, filled by one unmeasured warm-up "
        "run of each Python command), as it would be in a normal install; the runner unsets "
        "`PYTHONDONTWRITEBYTECODE` for the commands it measures.",
        "- Wall time counts waiting for a CPU when the machine is busy; CPU s does not, so it is "
        "the steadier figure when the load average (Machine, above) is high.",
        "- `000_…txt` is the raw reference transcript (qabook reads, repairs and resolves "
        "renditions); `reference.md` is the same 370 items as qabook Markdown, so pandoc and "
        "python-docx can be compared on equal input. `items-N.md` repeat those items, renumbered, "
        "in sections of 50; `items-N-generic.md` is the same file without the signature "
        "line qabook's Markdown writer starts with, so qabook reads it with its general Markdown "
        "reader instead of the fast path for its own files (pandoc ignores that line: it is an "
        "HTML comment).",
        "- python-docx writes each question with `add_heading(question, 2)` and each answer block "
        "as one unstyled `add_paragraph` of its plain text (lists, tables and code flattened): "
        "less work than qabook or pandoc do, so its times flatter it.",
    ]
    if export:
        parts.append(
            f"- `{export.name}` is a synthetic ChatGPT export of {export.size_mb:,.0f} MB "
            f"({export.conversations:,} conversations) in the shape of a recent "
            "`conversations.json`, written by `bench/export_bench.py`'s seeded generator: branches, "
            "reasoning and tool calls the reader leaves out, and about one conversation in five "
            "asking for numbered Q&A.")
    parts += [*[f"- {n}" for n in notes], ""]
    for prof in profiles:
        parts += profile_text(prof)
    parts += [
        "## Reproduce",
        "",
        "```sh",
        "python -m venv .venv",
        ".venv/bin/pip install -e '.[bench]'      # pandoc (pypandoc-binary), python-docx, matplotlib",
        ".venv/bin/python bench/run.py --large    # the published run: 1,000 to 100,000 items, the "
        "export, 3 runs each",
        ".venv/bin/python bench/run.py            # the same without 100,000 items",
        ".venv/bin/python bench/run.py --quick    # one run each, no export, no python-docx above "
        "1,000 items, no profile",
        "```",
        "",
        "The full run writes `docs/benchmarks.md` and `docs/images/benchmarks.png` (`--doc FILE` "
        "writes elsewhere, the plot in `images/` beside it). The reference transcript is read from "
        "`../shared/corpus/` next to the repository; set `QABOOK_SHARED` to another shared folder (or "
        "the corpus folder itself). Inputs and outputs are kept in `bench/work/` (gitignored) for "
        "inspection; the export is written once and reused.",
        "",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="one run per row, no python-docx above 1,000 items, no export, no profile, "
                             "report in bench/work/")
    parser.add_argument("--runs", type=int, help="runs per row; the median is reported (default 3, --quick 1)")
    parser.add_argument("--large", action="store_true", help="also 100,000 items")
    parser.add_argument("--export-size", default=EXPORT_SIZE, metavar="SIZE",
                        help=f"size of the synthetic ChatGPT export (default {EXPORT_SIZE})")
    parser.add_argument("--no-export", action="store_true", help="leave the export out")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a peer run may take")
    parser.add_argument("--doc", type=Path, help="where to write the Markdown report (the plot goes "
                                                  "in images/ beside it)")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    SPEED.append(speed_probe())
    notes: list[str] = []
    sizes = [1_000, 10_000] + ([100_000] if args.large else [])
    tools = find_tools()
    print("building inputs in", WORK)
    cases = build_inputs(sizes, notes)
    export: Case | None = None
    if not args.quick and not args.no_export:
        sys.path.insert(0, str(BENCH))
        try:
            size = importlib.import_module("export_bench").parse_size(args.export_size)
        finally:
            sys.path.remove(str(BENCH))
        export = build_export(size, notes)
        if export:
            cases.append(export)
    true = shutil.which("true")
    if true:
        floor = run_once([true], None).peak_mb
        notes.append(f"Measurement floor: `true` (a program of almost no memory) reports "
                     f"{floor:.1f} MB peak here, the measuring helper's own size; no row can be lower.")
    print("warming up (filling the bytecode cache)")
    warm_up(cases[0], tools)
    rows = run_all(cases, tools, args.runs, args.timeout, args.quick, notes)
    profiles: list[Profile] = []
    big = next((c for c in cases if c.items == PROFILE_ITEMS and c.transcript is None), None)
    if not args.quick and big:
        for inp in (big.markdown, big.generic):
            if inp:
                print("profiling qabook on", inp.name)
                try:
                    profiles.append(profile(inp))
                except subprocess.CalledProcessError as exc:
                    notes.append(f"The profile of {inp.name} failed (exit {exc.returncode}); see "
                                 "`python bench/_profile.py stages INPUT OUTPUT`.")
    elapsed = time.perf_counter() - started
    print()
    print(results_table(rows))
    print()
    for target, measured, verdict in targets(rows):
        print(f"{verdict:>4}  {target}: {measured}")
    for prof in profiles:
        print()
        print("\n".join(profile_text(prof)))
    doc_path = args.doc or (WORK / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    image_path = doc_path.parent / "images" / "benchmarks.png"
    image = "images/benchmarks.png" if plot(rows, image_path) else None
    if image:
        print("wrote", image_path)
    SPEED.append(speed_probe())
    doc_path.write_text(document(rows, tools, args, notes, profiles, elapsed, load_at_start, image, export),
                        encoding="utf-8")
    print("wrote", doc_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
