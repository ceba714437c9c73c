"""The long fuzz run: drive qabook's readers and writers with many generated inputs, in process.

    .venv/bin/python bench/fuzz/run.py --inputs 100000            # all cores, the shared corpus
    .venv/bin/python bench/fuzz/run.py --inputs 2000 --seed 7 --no-corpus
    .venv/bin/python bench/fuzz/run.py --input 4711               # input 4711 of seed 0 again, with its traceback
    .venv/bin/python bench/fuzz/run.py --replay bench/fuzz/crashes/<id>.bin

Inputs come from :mod:`tests.fuzz_inputs` (windows of the shared corpus and the fixtures, mutated
as bytes, as JSON trees, as ZIP and DOCX packages), and each goes through
:func:`tests.fuzz_inputs.run_one`: loaded with :func:`qabook.pipeline.load`, written in every
output format, and converted from a file as ``qabook convert`` does, which must agree. Anything
raised but qabook's own ``InputError``, a broken promise (a message on two lines, a file left
behind, another DOCX from the command-line path), and an input that takes longer than
``--timeout`` seconds are failures: the input's bytes are saved to ``bench/fuzz/crashes/``
(gitignored) with the traceback beside them, and the run ends with counts by outcome and by
kind of seed. Exit code 1 when anything failed.

The run is reproducible: input ``i`` of ``--seed S`` is drawn from ``random.Random(f"S/i")``,
whatever the number of workers or the chunk size.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests import fuzz_inputs  # noqa: E402 - after the path is set

CRASHES = Path(__file__).resolve().parent / "crashes"
MEMORY = 6 * 1024**3
"""Address space one worker may take: a runaway input fails, the machine does not."""


class Timeout(BaseException):
    """An input ran longer than ``--timeout`` (a BaseException, so no ``except Exception`` in
    qabook can swallow it)."""


def _alarm(signum: int, frame: object) -> None:
    raise Timeout("input took too long")


def _draw(seed: int, i: int, use_corpus: bool) -> tuple[str, str, bytes]:
    return fuzz_inputs.random_input(random.Random(f"{seed}/{i}"), use_corpus)


def _save(name: str, data: bytes, exc: BaseException) -> str:
    CRASHES.mkdir(exist_ok=True)
    key = hashlib.sha256(data).hexdigest()[:16]
    (CRASHES / f"{key}.bin").write_bytes(data)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    (CRASHES / f"{key}.txt").write_text(f"input name: {name}\n{type(exc).__name__}: {exc}\n\n{tb}", encoding="utf-8")
    return key


def _signature(exc: BaseException) -> str:
    """Where it was raised: the exception type and the innermost qabook frame."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "/qabook/" in f.filename] or tb
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
    if isinstance(exc, fuzz_inputs.Failure):
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return f"{type(exc).__name__} at {where}"


def _run_guarded(name: str, data: bytes, writers: bool, audit: bool, timeout: float,
                 workdir: Path) -> BaseException | None:
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fuzz_inputs.run_one(name, data, writers=writers, audit=audit, workdir=workdir)
    except Timeout as exc:
        return exc
    except RecursionError as exc:  # raised outside run_one's guard (should not happen)
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def worker(args: tuple[int, int, int, bool, bool, bool, float]) -> dict[str, object]:
    start, stop, seed, use_corpus, writers, audit, timeout = args
    warnings.simplefilter("ignore")  # zipfile warns about the duplicate member names it is given
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    signal.signal(signal.SIGALRM, _alarm)
    workdir = Path(tempfile.mkdtemp(prefix="qabook-fuzz-"))
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = {}
    slowest = (0.0, "")
    try:
        for i in range(start, stop):
            try:
                kind, name, data = _draw(seed, i, use_corpus)
            except Exception as exc:  # noqa: BLE001 - a generator bug; count it and go on
                counts["generator error"] += 1
                failures.setdefault(f"generator: {_signature(exc)}", []).append(f"input {i}")
                continue
            kinds[kind] += 1
            t0 = time.perf_counter()
            exc = _run_guarded(name, data, writers, audit, timeout, workdir)
            took = time.perf_counter() - t0
            if took > slowest[0]:
                slowest = (took, f"input {i}: {kind} seed {name}, {len(data)} bytes")
            if exc is None:
                counts["ok or InputError"] += 1
                continue
            counts["failed"] += 1
            failures.setdefault(_signature(exc), []).append(f"input {i}, {CRASHES / _save(name, data, exc)}.bin")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"counts": counts, "kinds": kinds, "failures": failures, "slowest": slowest}


def _show(label: str, name: str, data: bytes, exc: BaseException | None) -> int:
    if exc is None:
        print(f"{label} ({name}, {len(data)} bytes): ok or InputError")
        return 0
    print(f"{label} ({name}, {len(data)} bytes): {type(exc).__name__}: {exc}")
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    return 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=100_000, help="how many inputs to generate")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=500, help="inputs per task")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds one input may take")
    ap.add_argument("--no-corpus", action="store_true", help="fixtures only, as without ../shared/corpus")
    ap.add_argument("--no-writers", action="store_true", help="only load (faster)")
    ap.add_argument("--audit", action="store_true",
                    help="also review each input (qabook check) and read its DOCX, Markdown and JSON back "
                         "(qabook verify): a word lost is a failure")
    ap.add_argument("--input", type=int, nargs="+", metavar="I", help="run generated input I (of --seed) again")
    ap.add_argument("--replay", nargs="+", metavar="FILE", help="run saved inputs again and show tracebacks")
    a = ap.parse_args()
    use_corpus = not a.no_corpus
    warnings.simplefilter("ignore")
    if a.replay:
        bad = 0
        for p in map(Path, a.replay):
            note = p.with_suffix(".txt")  # the input's own name is on the first line of the note beside it
            first = note.read_text(encoding="utf-8").split("\n", 1)[0] if note.is_file() else ""
            name = first.removeprefix("input name: ") if first.startswith("input name: ") else p.name
            data = p.read_bytes()
            bad |= _show(str(p), name, data, fuzz_inputs.run_one(name, data, audit=a.audit))
        return bad
    if a.input:
        bad = 0
        for i in a.input:
            _, name, data = _draw(a.seed, i, use_corpus)
            bad |= _show(f"input {i}", name, data, fuzz_inputs.run_one(name, data, audit=a.audit))
        return bad
    fuzz_inputs.seeds(use_corpus)  # built once here; the forked workers share them
    tasks = [(s, min(s + a.chunk, a.inputs), a.seed, use_corpus, not a.no_writers, a.audit, a.timeout)
             for s in range(0, a.inputs, a.chunk)]
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = {}
    slowest = (0.0, "")
    t0 = time.time()
    with mp.get_context("fork").Pool(a.workers, maxtasksperchild=20) as pool:
        for r in pool.imap_unordered(worker, tasks):
            counts.update(r["counts"])  # type: ignore[arg-type]
            kinds.update(r["kinds"])  # type: ignore[arg-type]
            for sig, where in r["failures"].items():  # type: ignore[attr-defined]
                failures.setdefault(sig, []).extend(where)
            slowest = max(slowest, r["slowest"])  # type: ignore[type-var, assignment]
            print(f"\r{sum(counts.values())}/{a.inputs} inputs, {counts['failed']} failed, {time.time() - t0:.0f} s",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"inputs run: {sum(counts.values())} in {time.time() - t0:.0f} s ({a.workers} workers, seed {a.seed}, "
          f"{'corpus and fixtures' if use_corpus else 'fixtures only'}, writers {'off' if a.no_writers else 'on'}, "
          f"audit {'on' if a.audit else 'off'})")
    print("by kind of seed: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("outcome: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    print(f"slowest input: {slowest[0]:.2f} s, {slowest[1]}")
    for sig, where in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(where):>6}  {sig}  e.g. {where[0]}")
    return 1 if counts["failed"] or counts["generator error"] else 0


if __name__ == "__main__":
    sys.exit(main())
