"""``qabook search`` and ``qabook quiz``: argument parsing and printing; the work is in
:mod:`qabook.study.search` and :mod:`qabook.study.quiz`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from qabook.model import Document
from qabook.readers.base import InputError

EXIT_INPUT = 2


def _fail(name: str, message: str) -> NoReturn:
    click.echo(f"qabook: error: {name}: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _load(source: str) -> Document:
    from qabook.pipeline import Options, load

    if source == "-":
        return load(sys.stdin.buffer.read(), "-", Options()).document
    path = Path(source)
    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a folder, not a file")
    return load(None, source, Options(), path=source).document


@click.command()
@click.argument("source", metavar="SOURCE", type=click.Path(allow_dash=True))
@click.argument("query", nargs=-1, required=True)
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many results to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--cache", is_flag=True,
              help="Keep the index next to SOURCE (SOURCE.qabook-search.sqlite) and reuse it while SOURCE "
                   "is unchanged.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def search(source: str, query: tuple[str, ...], limit: int, as_json: bool, cache: bool, debug: bool) -> None:
    """Search the questions and answers of SOURCE, best matches first (BM25).

    SOURCE is anything qabook reads (a chat transcript, qabook Markdown or JSON, an export), or '-'
    for standard input. Every word of QUERY must occur in the question or the answer; when no item
    has them all, items with any of them are listed. A word ending in * matches as a prefix.
    """
    from qabook.study.search import SearchIndex

    text = " ".join(query)
    try:
        if cache and source != "-":
            if not Path(source).is_file():
                raise InputError("no such file" if not Path(source).exists() else "is a folder, not a file")
            index = SearchIndex.open_cached(source, lambda: _load(source))
        else:
            index = SearchIndex.build(_load(source))
        try:
            hits = index.search(text, limit)
        finally:
            index.close()
    except InputError as exc:
        if debug:
            raise
        _fail(source, str(exc))
    except OSError as exc:
        if debug:
            raise
        _fail(exc.filename or source, exc.strerror or str(exc))
    if as_json:
        click.echo(json.dumps({"query": text, "results": [h.to_dict() for h in hits]},
                              ensure_ascii=False, indent=1))
        return
    _print_hits(text, hits)


def _print_hits(query: str, hits: list) -> None:  # type: ignore[type-arg]
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    if not hits:
        console.print(f"No question or answer matches {query!r}.")
        return
    for h in hits:
        num = f"Q{h.number}" if h.number is not None else f"#{h.index + 1}"
        head = Text(f"{h.rank:>2}. ")
        head.append(num, style="bold cyan")
        head.append("  ")
        head.append(h.question, style="bold")
        console.print(head)
        snippet = Text("    " + h.snippet, style="dim")
        for start, end in h.highlights:
            snippet.stylize("bold yellow not dim", start + 4, end + 4)
        console.print(snippet)


@click.command()
@click.argument("source", metavar="SOURCE", type=click.Path())
@click.option("--progress", "progress_file", metavar="FILE", type=click.Path(),
              help="Progress file (default: SOURCE.qabook-quiz.sqlite next to SOURCE).")
@click.option("--section", metavar="TEXT", help="Only sections whose title contains TEXT (any case).")
@click.option("-n", "--count", default=20, show_default=True, type=click.IntRange(1),
              help="Questions per session.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def quiz(source: str, progress_file: str | None, section: str | None, count: int, debug: bool) -> None:
    """Quiz yourself on SOURCE in the terminal, with Leitner boxes.

    Each question is shown; Enter reveals the answer; then grade yourself: y (knew it) or n (missed
    it), or 1 again, 2 hard, 3 good, 4 easy; q stops. Progress is saved after every answer, in
    SOURCE.qabook-quiz.sqlite (or --progress FILE). The next session asks the missed items first,
    then the ones due, then new ones. Works at a terminal and with scripted standard input.
    """
    from qabook.study.quiz import Terminal, open_progress, progress_path, run

    try:
        if source == "-":
            raise InputError("the quiz reads its answers from standard input; give SOURCE as a file")
        if progress_file and _same_file(source, progress_file):
            raise InputError(f"--progress {progress_file!r} is the input file; choose another name")
        doc = _load(source)
        progress = open_progress(progress_file or progress_path(source))
    except InputError as exc:
        if debug:
            raise
        _fail(source, str(exc))
    except OSError as exc:
        if debug:
            raise
        _fail(exc.filename or source, exc.strerror or str(exc))
    try:
        run(doc, progress, Terminal(sys.stdin, sys.stdout), count=count, section=section)
    except KeyboardInterrupt:
        click.echo("\nStopped; progress so far is saved.", err=True)
    finally:
        progress.close()


COMMANDS = [search, quiz]
