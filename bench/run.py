"""Reproducible benchmarks for qabook: ``python bench/run.py [--quick] [--runs N] [--large]``.

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
     writer's signature line (``items-N-generic.md``) makes qabook use its general Markdown
     reader rather than the fast path for its own files.

2. Measures each command in a fresh subprocess (so interpreter start-up, imports and memory are
   real): wall time (``time.perf_counter`` around spawn and reap), CPU time (user + sys of that
   child, from ``os.wait4``) and peak RSS (``ru_maxrss`` of that child, from ``os.wait4``). The
   child is spawned by the tiny helper ``bench/_spawn.py``, because on Linux a child spawned
   straight from this runner would report the runner's own peak RSS (see that module).
   Each figure is the median of ``--runs`` runs (default 3), after one unmeasured warm-up run
   of each Python command with its bytecode cache in ``bench/work/pycache``.

   * ``qabook convert INPUT -o out.docx -q`` and the same with ``-o out.md``;
   * pandoc (``pandoc in.md -o out.docx``), the binary shipped by ``pypandoc-binary`` or the one
     on ``PATH``;
   * python-docx (``bench/python_docx_peer.py``): heading + one paragraph per answer block.

   Peers get a time limit per run (``--timeout``, default 120 s); a size where a peer's smaller
   run already shows it cannot finish in time is skipped and said so. ``--quick`` leaves
   python-docx out above 1,000 items (it is quadratic in document length) and skips the profile.

3. Prints a table and writes ``docs/benchmarks.md`` (``--quick``: ``bench/work/benchmarks-quick.md``
   unless ``--doc`` says otherwise): machine facts, the table, the targets with pass/fail, a
   cProfile of the 10,000-item DOCX conversion, and how to reproduce.

Install the peers with ``pip install -e '.[bench]'``; missing peers are skipped with a note.
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

# Targets the project holds itself to (reported as pass/fail, never tuned here).
TARGET_REFERENCE_WALL_S = 1.0
TARGET_10K_WALL_S = 3.0
TARGET_10K_PEAK_MB = 200.0

QABOOK_DOCX = "qabook → DOCX"
QABOOK_MD = "qabook → Markdown"
PANDOC = "pandoc → DOCX"
PYTHON_DOCX = "python-docx → DOCX"
STARTUP = "qabook --version (start-up only)"


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
        cases.append(Case(f"{n:,} items", n, md, js,
                          generic=generic if write_generic(md, generic) else None))
    return cases


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


def run_once(argv: list[str], timeout: float | None) -> Sample:
    """Run ``argv`` in a fresh process (through ``bench/_spawn.py``); its own wall, CPU and peak RSS."""
    with tempfile.NamedTemporaryFile(prefix="stderr-", dir=WORK) as err:
        helper = [sys.executable, "-S", "-I", str(BENCH / "_spawn.py"), str(timeout or 0), err.name, "--"]
        done = subprocess.run(helper + argv, capture_output=True, text=True, env=child_env())
        if done.returncode != 0:
            raise Failed(f"measuring helper failed: {done.stderr.strip()}")
        figures = json.loads(done.stdout)
        if figures["timed_out"]:
            raise TimedOut
        if figures["status"] != 0:
            raise Failed(f"{' '.join(argv)} exited with {figures['status']}: "
                         f"{Path(err.name).read_text(errors='replace')[-2000:]}")
    # Linux reports ru_maxrss in KiB
    return Sample(figures["wall"], figures["cpu"], figures["maxrss_kib"] / 1024)


@dataclass
class Row:
    """One line of the results table."""

    case: str
    input: str
    items: int
    tool: str
    samples: list[Sample] = dataclasses.field(default_factory=list)
    note: str = ""

    def median(self, field: str) -> float | None:
        """Median of one :class:`Sample` field over the runs, or None if nothing ran."""
        if not self.samples:
            return None
        return float(statistics.median(getattr(s, field) for s in self.samples))


def measure(row: Row, argv: list[str], runs: int, timeout: float | None) -> Row:
    """Fill ``row`` with ``runs`` samples of ``argv`` (stopping at the first time-out)."""
    print(f"  {row.case:>14} | {row.tool:<32} ", end="", flush=True)
    for _ in range(runs):
        try:
            row.samples.append(run_once(argv, timeout))
        except TimedOut:
            row.samples.clear()
            row.note = f"stopped after {timeout:.0f} s (did not finish)"
            break
    wall = row.median("wall")
    print(f"{wall:8.3f} s" if wall is not None else row.note, flush=True)
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


def warm_up(case: Case, tools: Tools) -> None:
    """Run every Python command once, unmeasured, so their bytecode cache is filled."""
    out = WORK / "out"
    run_once([tools.qabook, "--version"], None)
    for inp in (case.transcript, case.markdown):
        if inp:
            for suffix in ("docx", "md"):
                run_once([tools.qabook, "convert", str(inp), "-o", str(out / f"warm-up.{suffix}"), "-q"], None)
    if tools.python_docx:
        run_once([sys.executable, str(BENCH / "python_docx_peer.py"), str(case.plain),
                  str(out / "warm-up-python-docx.docx")], None)


def run_all(cases: list[Case], tools: Tools, runs: int, timeout: float, quick: bool,
            notes: list[str]) -> list[Row]:
    """Measure every tool on every case."""
    out = WORK / "out"
    rows: list[Row] = []
    print(f"measuring, median of {runs} run(s) each:")
    rows.append(measure(Row("start-up", "—", 0, STARTUP), [tools.qabook, "--version"], runs, None))
    # per peer: (items, median wall) of the largest size it finished, to decide whether a bigger
    # one can finish within the time limit; and why it is skipped from now on, once it timed out
    last_peer: dict[str, tuple[int, float]] = {}
    skipped_for_good: dict[str, str] = {}

    def peer(row: Row, argv: list[str]) -> None:
        prior = last_peer.get(row.tool)
        if prior is None and row.tool in skipped_for_good:
            row.note = skipped_for_good[row.tool]
        elif prior and prior[1] * row.items / prior[0] > timeout:
            row.note = (f"skipped: {prior[1]:.1f} s at {prior[0]:,} items; even linear growth "
                        f"gives > {timeout:.0f} s here")
        else:
            measure(row, argv, runs, timeout)
            wall = row.median("wall")
            if wall is not None:
                last_peer[row.tool] = (row.items, wall)
            else:
                skipped_for_good[row.tool] = f"skipped: stopped after {timeout:.0f} s at fewer items"
        rows.append(row)
        if row.note and not row.samples:
            print(f"  {row.case:>14} | {row.tool:<32} {row.note}")

    if not tools.pandoc:
        notes.append("pandoc is not installed (pip install pypandoc-binary, or put pandoc on PATH): "
                     "its rows are missing.")
    if not tools.python_docx:
        notes.append("python-docx is not installed (pip install python-docx): its rows are missing.")
    for case in cases:
        tag = case.markdown.stem
        inputs: list[Path] = [case.transcript] if case.transcript else []
        inputs.append(case.markdown)
        base = Row(case.name, "", case.items, "")
        for inp in inputs:
            docx = out / f"{tag}-{inp.suffix[1:]}-qabook.docx"
            rows.append(measure(dataclasses.replace(base, input=inp.name, tool=QABOOK_DOCX, samples=[]),
                                [tools.qabook, "convert", str(inp), "-o", str(docx), "-q"], runs, None))
            if inp.suffix != ".md" or not case.transcript:
                md = out / f"{tag}-{inp.suffix[1:]}-qabook.md"
                rows.append(measure(dataclasses.replace(base, input=inp.name, tool=QABOOK_MD, samples=[]),
                                    [tools.qabook, "convert", str(inp), "-o", str(md), "-q"], runs, None))
        if case.generic:
            rows.append(measure(dataclasses.replace(base, input=case.generic.name, tool=QABOOK_DOCX,
                                                    samples=[]),
                                [tools.qabook, "convert", str(case.generic), "-o",
                                 str(out / f"{tag}-generic-qabook.docx"), "-q"], runs, None))
        md_name = case.markdown.name
        if tools.pandoc:
            peer(dataclasses.replace(base, input=md_name, tool=PANDOC, samples=[]),
                 [tools.pandoc, str(case.markdown), "-o", str(out / f"{tag}-pandoc.docx")])
        if tools.python_docx:
            row = dataclasses.replace(base, input=md_name, tool=PYTHON_DOCX, samples=[])
            if quick and case.items > 1_000:
                row.note = "skipped (--quick): quadratic, run without --quick"
                rows.append(row)
                print(f"  {row.case:>14} | {row.tool:<32} {row.note}")
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
        "Wall time per stage of `load` + `write_file` in one fresh process, no profiler "
        "(interpreter start-up, imports and the command line excluded):",
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


def results_table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    base: dict[tuple[str, str], float] = {}
    for r in rows:
        wall = r.median("wall")
        if r.tool == QABOOK_DOCX and wall:
            base[(r.case, r.input)] = wall
    lines = ["| input | items | tool | wall s | CPU s | peak MB | ratio vs qabook |",
             "|---|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        wall = r.median("wall")
        ref = base.get((r.case, r.input))
        ratio = f"{wall / ref:.2f}×" if wall is not None and ref else "—"
        tool = f"{r.tool} — {r.note}" if r.note else r.tool
        items = f"{r.items:,}" if r.items else "—"
        lines.append(f"| {r.input} | {items} | {tool} | {_fmt(wall, 3)} | "
                     f"{_fmt(r.median('cpu'), 3)} | {_fmt(r.median('peak_mb'), 1)} | {ratio} |")
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target that could be measured.

    The 10,000-item targets are checked on qabook's own Markdown (the collection as specified)
    and, for information, on the generic copy that goes through the general Markdown reader.
    """
    def find(case: str, input_ok: typing.Callable[[str], bool]) -> Row | None:
        for r in rows:
            if r.case == case and r.tool == QABOOK_DOCX and input_ok(r.input) and r.samples:
                return r
        return None

    def check(target: str, row: Row, field: str, unit: str, limit: float) -> tuple[str, str, str]:
        digits = 3 if unit == "s" else 1
        value = typing.cast(float, row.median(field))
        runs = ", ".join(f"{getattr(s, field):.{digits}f}" for s in row.samples)
        return (target, f"{value:.{digits}f} {unit} (runs: {runs})", "pass" if value <= limit else "FAIL")

    out: list[tuple[str, str, str]] = []
    ref = find("reference", lambda name: name.endswith(".txt"))
    if ref:
        out.append(check(f"reference case → DOCX ≤ {TARGET_REFERENCE_WALL_S:g} s wall", ref, "wall", "s",
                         TARGET_REFERENCE_WALL_S))
    for label, ok in (("", lambda name: not name.endswith("-generic.md")),
                      (" (generic Markdown, general reader; for information)",
                       lambda name: name.endswith("-generic.md"))):
        big = find("10,000 items", ok)
        if big:
            out.append(check(f"10,000 items{label} → DOCX ≤ {TARGET_10K_WALL_S:g} s wall", big, "wall",
                             "s", TARGET_10K_WALL_S))
            out.append(check(f"10,000 items{label} → DOCX ≤ {TARGET_10K_PEAK_MB:g} MB peak", big,
                             "peak_mb", "MB", TARGET_10K_PEAK_MB))
    return out


def _read(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


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
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("qabook", f"{metadata.version('qabook')} (commit {commit})"),
        ("pandoc", tools.pandoc_version),
        ("python-docx", tools.python_docx_version),
    ]


def document(rows: list[Row], tools: Tools, args: argparse.Namespace, notes: list[str],
             profiles: list[Profile], elapsed: float, load_at_start: float) -> str:
    """The whole report as Markdown."""
    mode = "--quick" if args.quick else "full (default)"
    flags = " ".join(f for f, on in (("--quick", args.quick), ("--large", args.large)) if on)
    command = f"python bench/run.py {flags} --runs {args.runs}".replace("  ", " ")
    parts = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py` from a run on the machine below; do not edit by hand — "
        "rerun the script instead.",
        "",
        f"Run: {dt.date.today().isoformat()}, mode {mode}, median of {args.runs} run(s) per row, "
        f"{elapsed:.0f} s in all. Command: `{command}`.",
        "",
        "## Machine",
        "",
        *[f"- **{k}:** {v}" for k, v in machine_facts(tools, load_at_start)],
        "",
        "## Results",
        "",
        results_table(rows),
        "",
        "- Every row is a fresh process: interpreter start-up and imports are included.",
        "- *wall s*: spawn to exit; *CPU s*: user + system time of that process; *peak MB*: its "
        "peak resident set (`ru_maxrss`, MiB). All three from `os.wait4` on the child, spawned "
        "by the small helper `bench/_spawn.py` so the runner's own memory cannot leak into the "
        "peak (on Linux `ru_maxrss` survives fork and exec).",
        "- *ratio vs qabook*: wall time over qabook → DOCX on the same input file.",
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
        *[f"- {n}" for n in notes],
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        *[f"| {t} | {m} | {v} |" for t, m, v in targets(rows)],
        "",
    ]
    for prof in profiles:
        parts += profile_text(prof)
    parts += [
        "## Reproduce",
        "",
        "```sh",
        "python -m venv .venv",
        ".venv/bin/pip install -e '.[bench]'      # pandoc (pypandoc-binary) and python-docx",
        ".venv/bin/python bench/run.py            # full: 3 runs, profile, writes docs/benchmarks.md",
        ".venv/bin/python bench/run.py --quick    # no python-docx above 1,000 items, no profile",
        ".venv/bin/python bench/run.py --large    # also 100,000 items",
        "```",
        "",
        "The reference transcript is read from `../shared/corpus/` next to the repository; set "
        "`QABOOK_SHARED` to another shared folder (or the corpus folder itself). Inputs and "
        "outputs are kept in `bench/work/` (gitignored) for inspection.",
        "",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="no python-docx above 1,000 items, no profile, report in bench/work/")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the median is reported")
    parser.add_argument("--large", action="store_true", help="also 100,000 items (ignored with --quick)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a peer run may take")
    parser.add_argument("--doc", type=Path, help="where to write the Markdown report")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    notes: list[str] = []
    sizes = [1_000, 10_000]
    if args.large and not args.quick:
        sizes.append(100_000)
    elif args.large:
        print("bench: --large is ignored with --quick", file=sys.stderr)
    tools = find_tools()
    print("building inputs in", WORK)
    cases = build_inputs(sizes, notes)
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
                profiles.append(profile(inp))
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
    doc_path.write_text(document(rows, tools, args, notes, profiles, elapsed, load_at_start), encoding="utf-8")
    print("\nwrote", doc_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
