"""``qabook list INPUT``: the conversations (sections) an input holds, with their item counts.

A chat-app export holds hundreds of conversations; this shows what is in it before converting
(a table, or ``--json``). :func:`select_sections` picks sections by title and date, for commands
that convert only some of them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, NoReturn

import click

from qabook.formats import READERS
from qabook.model import Document, Section
from qabook.readers.base import InputError

_DATE_RE = re.compile(r"\((\d{4}-\d{2}-\d{2})(?:, [^)]*)?\)(?: #\d+)?$")


def section_date(section: Section) -> dt.date | None:
    """The date a section's title ends with ("Title (2024-06-01)"), if any."""
    m = _DATE_RE.search(section.title)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def section_filter(pattern: str | None = None, since: dt.date | None = None,
                   until: dt.date | None = None) -> Callable[[Section], bool]:
    """Whether a section's title matches ``pattern`` and its date is in range.

    ``pattern`` matches titles case-insensitively: as a shell pattern when it holds ``*``, ``?``
    or ``[``, else as a substring. ``since``/``until`` are inclusive; with either, sections
    without a date are left out.
    """
    pat = pattern.casefold() if pattern else ""
    glob = any(c in pat for c in "*?[")

    def keep(s: Section) -> bool:
        if pat:
            title = s.title.casefold()
            if glob:
                if not fnmatch.fnmatchcase(title, pat):
                    return False
            elif pat not in title:
                return False
        if since or until:
            day = section_date(s)
            if day is None or (since and day < since) or (until and day > until):
                return False
        return True

    return keep


def select_sections(doc: Document, pattern: str | None = None, since: dt.date | None = None,
                    until: dt.date | None = None) -> Document:
    """The document with only the sections :func:`section_filter` keeps."""
    keep = section_filter(pattern, since, until)
    return replace(doc, sections=tuple(s for s in doc.sections if keep(s)))


def listing(doc: Document | Iterable[Section]) -> list[dict[str, Any]]:
    """One row per section (of a document, or sections as they stream): index, title, date,
    items, answered."""
    rows = []
    sections = doc.sections if isinstance(doc, Document) else doc
    for i, s in enumerate(sections, start=1):
        day = section_date(s)
        rows.append({
            "index": i,
            "title": s.title,
            "date": day.isoformat() if day else None,
            "items": len(s.items),
            "answered": sum(1 for it in s.items if it.status == "answered"),
        })
    return rows


def _fail(name: str, message: str) -> NoReturn:
    click.echo(f"qabook: error: {name}: {message}", err=True)
    sys.exit(2)


@click.command("list")
@click.argument("input_path", metavar="INPUT", type=click.Path(allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option("--from", "from_format", metavar="FORMAT", type=click.Choice([r.name for r in READERS]),
              help="Read INPUT as this format instead of recognising it by content.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def list_command(input_path: str, as_json: bool, from_format: str | None, debug: bool) -> None:
    """List the conversations (sections) in INPUT with their item counts.

    INPUT is any file qabook converts (a chat-app export, a transcript, qabook Markdown or JSON),
    or '-' for standard input.
    """
    from qabook.pipeline import Options, open_conversion

    name = input_path
    try:
        options = Options(repairs=False, reader=from_format)
        if name == "-":
            conversion = open_conversion(sys.stdin.buffer.read(), name, options)
        else:
            path = Path(name)
            if not path.exists():
                raise InputError("no such file")
            if path.is_dir():
                raise InputError("is a folder, not a file")
            conversion = open_conversion(None, name, options, path=name)
        rows = listing(conversion.sections())  # section by section: a big export is never whole
        report = conversion.report()
    except InputError as exc:
        if debug:
            raise
        _fail(name, str(exc))
    except OSError as exc:
        if debug:
            raise
        _fail(exc.filename or name, exc.strerror or str(exc))
    title = conversion.head.title
    if as_json:
        out = {
            "source": name if name != "-" else "-",
            "reader": report.reader,
            "title": title,
            "sections": rows,
            "items": sum(r["items"] for r in rows),
            "answered": sum(r["answered"] for r in rows),
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{title} — {report.reader}", title_justify="left", header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("Section")
    table.add_column("Items", justify="right")
    table.add_column("Answered", justify="right")
    for r in rows:
        table.add_row(str(r["index"]), r["title"], str(r["items"]), str(r["answered"]))
    console.print(table)
    console.print(f"{len(rows)} section(s), {sum(r['items'] for r in rows)} item(s), "
                  f"{sum(r['answered'] for r in rows)} answered")


COMMANDS = [list_command]
