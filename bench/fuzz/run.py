"""The long fuzz run: drive qabook's readers (and writers) with many generated inputs, in process.

    .venv/bin/python bench/fuzz/run.py --inputs 100000            # all cores, the shared corpus
    .venv/bin/python bench/fuzz/run.py --inputs 2000 --seed 7 --no-corpus
    .venv/bin/python bench/fuzz/run.py --replay bench/fuzz/crashes/<id>.bin

Inputs come from :mod:`tests.fuzz_inputs` (windows of the shared corpus and the fixtures, mutated
as bytes, as JSON trees, as ZIP and DOCX packages). Each input is loaded with
:func:`qabook.pipeline.load`; what loads is written in every output format. Anything raised but
qabook's own ``InputError`` is a failure, and so is an input that takes longer than ``--timeout``
seconds: its bytes are saved to ``bench/fuzz/crashes/`` (gitignored) with the traceback beside them,
and the run ends with counts by outcome and by seed kind. Exit code 1 when anything failed.

The run is reproducible: worker ``w`` of ``--seed S`` draws input ``i`` from ``Random((S, w, i))``.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import multiprocessing as mp
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

CRASHES = Path(__file__).resolve().parent / "crashes"


class Timeout(Exception):
    pass


def _alarm(signum, frame):  # type: ignore[no-untyped-def]
    raise Timeout("input took too long")


def _save(name: str, data: bytes, exc: BaseException, tb: str) -> str:
    CRASHES.mkdir(exist_ok=True)
    key = hashlib.sha256(data).hexdigest()[:16]
    (CRASHES / f"{key}.bin").write_bytes(data)
    (CRASHES / f"{key}.txt").write_text(f"input name: {name}\n{type(exc).__name__}: {exc}\n\n{tb}", encoding="utf-8")
    return key


def _signature(exc: BaseException) -> str:
    """Where it was raised: the exception type and the innermost qabook frame."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "/qabook/" in f.filename] or tb
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def worker(args: tuple[int, int, int, int, bool, bool, bool, float]) -> dict[str, object]:
    index, start, stop, seed, use_corpus, writers, audit, timeout = args
    import random
    import warnings

    from tests import fuzz_inputs

    warnings.simplefilter("ignore")  # zipfile warns about the duplicate member names it is given

    # a runaway input must not take the machine down with it
    limit = 6 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    fuzz_inputs.seeds(use_corpus)  # build the seeds before timing anything
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = {}
    slowest = (0.0, "")
    for i in range(start, stop):
        rng = random.Random(f"{seed}/{index}/{i}")
        try:
            name, data = fuzz_inputs.random_input(rng, use_corpus)
        except Exception as exc:  # noqa: BLE001 - a generator bug; count it and go on
            counts["generator error"] += 1
            failures.setdefault(f"generator: {_signature(exc)}", []).append(f"{seed}/{index}/{i}")
            continue
        kind = "zip" if data.startswith(b"PK") else "json" if data.lstrip(b"\xef\xbb\xbf \n")[:1] in (b"{", b"[") \
            else "text"
        kinds[kind] += 1
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exc = fuzz_inputs.run_one(name, data, writers=writers, audit=audit)
        except Timeout as t:
            exc = t
        except RecursionError as r:  # raised outside run_one's guard (should not happen)
            exc = r
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.perf_counter() - t0
        if took > slowest[0]:
            slowest = (took, f"{name} ({len(data)} bytes, input {index}/{i})")
        if exc is None:
            counts["ok or InputError"] += 1
            continue
        counts["failed"] += 1
        sig = _signature(exc)
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        key = _save(name, data, exc, tb)
        failures.setdefault(sig, []).append(key)
    return {"counts": counts, "kinds": kinds, "failures": failures, "slowest": slowest}


def replay(paths: list[str]) -> int:
    from tests import fuzz_inputs

    bad = 0
    for p in paths:
        data = Path(p).read_bytes()
        exc = fuzz_inputs.run_one(Path(p).name, data)
        if exc is None:
            print(f"{p}: ok")
        else:
            bad += 1
            print(f"{p}: {type(exc).__name__}: {exc}")
            traceback.print_exception(type(exc), exc, exc.__traceback__)
    return 1 if bad else 0


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
    ap.add_argument("--replay", nargs="+", metavar="FILE", help="run saved inputs again and show tracebacks")
    a = ap.parse_args()
    if a.replay:
        return replay(a.replay)
    tasks = [(k, s, min(s + a.chunk, a.inputs), a.seed, not a.no_corpus, not a.no_writers, a.audit, a.timeout)
             for k, s in enumerate(range(0, a.inputs, a.chunk))]
    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = {}
    slowest = (0.0, "")
    t0 = time.time()
    done = 0
    with mp.get_context("fork").Pool(a.workers, maxtasksperchild=20) as pool:
        for r in pool.imap_unordered(worker, tasks):
            counts.update(r["counts"])  # type: ignore[arg-type]
            kinds.update(r["kinds"])  # type: ignore[arg-type]
            for sig, keys in r["failures"].items():  # type: ignore[attr-defined]
                failures.setdefault(sig, []).extend(keys)
            slowest = max(slowest, r["slowest"])  # type: ignore[type-var, assignment]
            done = sum(counts.values())
            print(f"\r{done}/{a.inputs} inputs, {counts['failed']} failed, {time.time() - t0:.0f} s",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"inputs run: {done} in {time.time() - t0:.0f} s ({a.workers} workers, seed {a.seed}, "
          f"{'fixtures only' if a.no_corpus else 'corpus and fixtures'}, writers {'off' if a.no_writers else 'on'}, "
          f"audit {'on' if a.audit else 'off'})")
    print("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("outcome: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    print(f"slowest input: {slowest[0]:.2f} s, {slowest[1]}")
    for sig, keys in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(keys):>6}  {sig}  e.g. {CRASHES / keys[0]}.bin")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
