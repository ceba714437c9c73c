"""Where qabook's conversion time goes; run by ``bench/run.py`` in fresh processes.

Usage:

* ``python bench/_profile.py stages INPUT OUTPUT`` prints JSON ``[[stage, seconds], ...]``: wall
  time per stage of a conversion to DOCX by one process (as ``qabook convert`` streams it),
  measured without a profiler by wrapping the functions the pipeline calls (``pick_reader``,
  the sections a ``Conversion`` gives, answer parsing, ``resolve``, the formulas, the DOCX body
  writer's ``section`` and ``finish``) for this one process only;
* ``python bench/_profile.py cprofile INPUT OUTPUT DUMP`` runs the same conversion under
  cProfile and writes the statistics to DUMP (``pstats`` format).

Nothing under ``src/`` is changed: the wrappers are set on the imported modules in memory.
"""

from __future__ import annotations

import cProfile
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import qabook.pipeline as pipeline


def convert(inp: str, out: str) -> None:
    """What ``qabook convert INPUT -o OUTPUT`` does by one process, without the command line."""
    pipeline.convert(None, inp, out, path=inp, date=pipeline.document_date(inp))


def stages(inp: str, out: str) -> list[tuple[str, float]]:
    """Wall seconds per stage of one conversion by one process, as ``qabook convert`` streams it
    (a stage whose function is missing reads 0).

    Nested stages are taken out of the stage around them: the reader's time is the time spent
    waiting for its sections, less the parsing of answers; the writer's, the time spent writing
    sections, less the formulas.
    """
    from qabook.readers import pulldown
    from qabook.writers.docx import _body

    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    setattr(pipeline, "pick_reader", timed("sniff", getattr(pipeline, "pick_reader")))
    pulldown.parse_blocks = timed("answers", pulldown.parse_blocks)
    for name in ("resolve", "clean_document"):
        if hasattr(pipeline, name):
            setattr(pipeline, name, timed("pipeline", getattr(pipeline, name)))
    import qabook.math

    qabook.math.tex_to_omml = timed("formulas", qabook.math.tex_to_omml)
    _body.BodyWriter.section = timed("body", _body.BodyWriter.section)  # type: ignore[method-assign]
    _body.BodyWriter.finish = timed("finish", _body.BodyWriter.finish)  # type: ignore[method-assign]
    sections = pipeline.Conversion.sections

    def timed_sections(self: Any, check: bool = True) -> Any:
        it = sections(self, check)
        while True:
            start = time.perf_counter()
            try:
                section = next(it)
            except StopIteration:
                spent["sections"] = spent.get("sections", 0.0) + time.perf_counter() - start
                return
            spent["sections"] = spent.get("sections", 0.0) + time.perf_counter() - start
            yield section

    pipeline.Conversion.sections = timed_sections  # type: ignore[method-assign]
    # a reader that reads the whole input (general Markdown, a transcript) does it on opening
    setattr(pipeline, "_conversion", timed("opening", getattr(pipeline, "_conversion")))
    import markdown_it

    markdown_it.MarkdownIt.parse = timed("markdown-it", markdown_it.MarkdownIt.parse)  # type: ignore[method-assign]

    start = time.perf_counter()
    pipeline.convert(None, inp, out, path=inp, date=pipeline.document_date(inp))
    total = time.perf_counter() - start

    answers, formulas, structure = spent.get("answers", 0.0), spent.get("formulas", 0.0), spent.get("markdown-it", 0.0)
    reading = (spent.get("opening", 0.0) + spent.get("sections", 0.0) - spent.get("pipeline", 0.0) - answers
               - structure)
    body = spent.get("body", 0.0) - formulas
    named = (spent.get("sniff", 0.0) + structure + reading + answers + spent.get("pipeline", 0.0) + body
             + formulas)
    return [
        ("choosing the reader (sniffing)", spent.get("sniff", 0.0)),
        ("parsing a whole Markdown file's structure (markdown-it; not for qabook's own Markdown)", structure),
        ("reading (decoding, the file's structure, questions; answers of a whole file)", reading),
        ("parsing answers one by one (pulldown-cmark through pyromark, events → model)", answers),
        ("cleaning and renditions, per chunk of sections", spent.get("pipeline", 0.0)),
        ("writing the DOCX body (WordprocessingML, contents entries)", body),
        ("formulas (TeX → MathML → OMML, each distinct one once)", formulas),
        ("title page, contents and zip (finish)", spent.get("finish", 0.0)),
        ("rest (opening, report, the other zip parts, renaming)", total - named - spent.get("finish", 0.0)),
        ("total", total),
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
