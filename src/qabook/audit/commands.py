"""``qabook check`` and ``qabook verify``: printing and exit codes only; the work is in the library."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from qabook.formats import READERS
from qabook.pipeline import Options, check_folder, load, write_text
from qabook.readers.base import InputError

EXIT_OK, EXIT_REVIEW, EXIT_INPUT = 0, 1, 2


def _fail(name: str, message: str) -> None:
    click.echo(f"qabook: error: {name}: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _check_file(name: str) -> None:
    path = Path(name)
    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a folder, not a file")


def _load(input_path: str, from_format: str | None):  # type: ignore[no-untyped-def]
    if input_path == "-":
        return load(sys.stdin.buffer.read(), "-", Options(reader=from_format))
    _check_file(input_path)
    return load(None, input_path, Options(reader=from_format), path=input_path)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


@click.command("check")
@click.argument("input_path", metavar="INPUT", type=click.Path(allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON instead of tables.")
@click.option("--html", "html_path", metavar="FILE.html", type=click.Path(),
              help="Also write the review as a self-contained HTML page.")
@click.option("--from", "from_format", metavar="FORMAT", type=click.Choice([r.name for r in READERS]),
              help="Read INPUT as this format instead of recognising it by content.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def check_command(input_path: str, as_json: bool, html_path: str | None, from_format: str | None,
                  debug: bool) -> None:
    """Review a collection: numbering, missing headings, repeated questions, unanswered items,
    skipped chat, and where renditions differ in words.

    Exit code 0 when clean, 1 when something needs review, 2 for unusable input.
    """
    from qabook.audit.check import review
    from qabook.audit.render import print_review, review_html

    try:
        if html_path and input_path != "-" and _same_file(input_path, html_path):
            raise InputError(f"--html {html_path!r} is the input file; choose another name")
        if html_path:
            check_folder(html_path)
        result = _load(input_path, from_format)
        rv = review(result)
        if html_path:
            write_text(review_html(rv), html_path)
    except (InputError, OSError) as exc:
        if debug:
            raise
        _fail(input_path, str(exc) if isinstance(exc, InputError) else (exc.strerror or str(exc)))
        return
    if as_json:
        click.echo(json.dumps(rv.to_dict(), ensure_ascii=False, indent=1))
    else:
        from rich.console import Console

        print_review(rv, Console(highlight=False, soft_wrap=True))
    sys.exit(EXIT_REVIEW if rv.needs_review else EXIT_OK)


@click.command("verify")
@click.argument("output_path", metavar="OUTPUT", type=click.Path())
@click.option("--source", "source_path", metavar="INPUT", required=True,
              type=click.Path(allow_dash=True), help="The input OUTPUT was made from.")
@click.option("--rendition", default="auto", show_default=True, metavar="auto|first|last|N",
              help="The --rendition OUTPUT was converted with.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--from", "from_format", metavar="FORMAT", type=click.Choice([r.name for r in READERS]),
              help="Read INPUT as this format instead of recognising it by content.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def verify_command(output_path: str, source_path: str, rendition: str, as_json: bool,
                   from_format: str | None, debug: bool) -> None:
    """Prove that OUTPUT (DOCX, Markdown or JSON made by qabook, or edited since) still holds every
    question and answer of INPUT, word for word and in order.

    Lists each missing or changed item with a word diff. Exit code 0 when everything is there,
    1 when something is missing or changed, 2 for unusable input.
    """
    from qabook.audit.verify import verify

    current = output_path
    try:
        _check_file(output_path)
        data = Path(output_path).read_bytes()
        current = source_path
        if source_path == "-":
            source = load(sys.stdin.buffer.read(), "-", Options(reader=from_format, rendition=rendition))
        else:
            _check_file(source_path)
            source = load(None, source_path, Options(reader=from_format, rendition=rendition), path=source_path)
        current = output_path
        result = verify(data, output_path, source.document, source_path)
    except (InputError, OSError) as exc:
        if debug:
            raise
        _fail(current, str(exc) if isinstance(exc, InputError) else (exc.strerror or str(exc)))
        return
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        if result.ok:
            click.echo(f"{output_path}: all {result.items} items of {source_path} are there, word for word.")
        else:
            click.echo(f"{output_path}: {len(result.problems)} of {result.items} items of {source_path} "
                       f"are missing or changed ({result.verified} verified).")
            for p in result.problems:
                label = f"Q{p.number}" if p.number is not None else "item"
                click.echo(f"  {label} {p.kind}: {p.question}")
                for line in p.diff.splitlines():
                    click.echo(f"      {line}")
        if result.extra:
            extra = ", ".join(f"Q{n}" if n is not None else "?" for n in result.extra)
            click.echo(f"  note: the output also holds items not in the source: {extra}")
    sys.exit(EXIT_OK if result.ok else EXIT_REVIEW)


COMMANDS = [check_command, verify_command]
