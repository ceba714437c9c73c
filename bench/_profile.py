"""Where qabook's conversion time goes; run by ``bench/run.py`` in fresh processes.

Usage:

* ``python bench/_profile.py stages INPUT OUTPUT`` prints JSON ``[[stage, seconds], ...]``: wall
  time per stage of ``load`` + ``write_file``, measured without a profiler by wrapping the
  functions the pipeline calls (``pick_reader`` / ``reader_named`` and the reader's ``read``,
  markdown-it's ``MarkdownIt.parse``, ``repair``, ``resolve``) for this one process only;
* ``python bench/_profile.py cprofile INPUT OUTPUT DUMP`` runs the same conversion under
  cProfile and writes the statistics to DUMP (``pstats`` format).

Nothing under ``src/`` is changed: the wrappers are set on the imported modules in memory.
"""

from __future__ import annotations

import cProfile
import dataclasses
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import markdown_it

import qabook.pipeline as pipeline


def _load(inp: str) -> Any:
    """``pipeline.load`` as the command line calls it (by path where the pipeline supports it)."""
    if "path" in inspect.signature(pipeline.load).parameters:
        return pipeline.load(None, inp, path=inp)
    return pipeline.load(Path(inp).read_bytes(), inp)


def convert(inp: str, out: str) -> None:
    """What ``qabook convert INPUT -o OUTPUT`` does, without the command line."""
    result = _load(inp)
    pipeline.write_file(result.document, out, pipeline.document_date(inp))


def stages(inp: str, out: str) -> list[tuple[str, float]]:
    """Wall seconds per stage of one conversion (a stage whose function is missing reads 0)."""
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    def timed_reader(fn: Callable[..., Any]) -> Callable[..., Any]:
        def pick(*args: Any, **kwargs: Any) -> Any:
            reader = fn(*args, **kwargs)
            if dataclasses.is_dataclass(reader) and not isinstance(reader, type):
                return dataclasses.replace(reader, read=timed("read", getattr(reader, "read")))
            return reader
        return timed("sniff", pick)

    for name in ("pick_reader", "reader_named"):
        if hasattr(pipeline, name):
            setattr(pipeline, name, timed_reader(getattr(pipeline, name)))
    for name in ("repair", "resolve"):
        if hasattr(pipeline, name):
            setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    markdown_it.MarkdownIt.parse = timed("parse", markdown_it.MarkdownIt.parse)  # type: ignore[method-assign]

    start = time.perf_counter()
    result = _load(inp)
    loaded = time.perf_counter()
    pipeline.write_file(result.document, out, pipeline.document_date(inp))
    done = time.perf_counter()

    parse, read = spent.get("parse", 0.0), spent.get("read", 0.0)
    accounted = sum(spent.get(k, 0.0) for k in ("sniff", "read", "repair", "resolve"))
    return [
        ("markdown-it parse (inside the reader)", parse),
        ("reader, apart from markdown-it (decoding, tokens → model)", read - parse),
        ("repair passes", spent.get("repair", 0.0)),
        ("rendition resolve", spent.get("resolve", 0.0)),
        ("choosing the reader (sniffing)", spent.get("sniff", 0.0)),
        ("rest of load (report)", (loaded - start) - accounted),
        ("write_file (the writer)", done - loaded),
        ("total", done - start),
    ]


def main(argv: list[str]) -> int:
    """Dispatch ``stages`` or ``cprofile``."""
    if len(argv) == 3 and argv[0] == "stages":
        print(json.dumps(stages(argv[1], argv[2])))
        return 0
    if len(argv) == 4 and argv[0] == "cprofile":
        prof = cProfile.Profile()
        prof.runcall(convert, argv[1], argv[2])
        prof.dump_stats(argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
