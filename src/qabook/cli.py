"""The ``qabook`` command: argument parsing and printing only; the work is in the library.

Exit codes: 0 success, 1 a check found something (reserved for ``check``/``verify``),
2 unusable input or a usage error. Errors are one line naming the file and the problem;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any, NoReturn

import click

from qabook import __version__
from qabook.readers.base import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from qabook.pipeline import Report

# The library (formats, readers, pipeline) is imported inside the commands, and the commands of
# other modules only when named, so `qabook --version` or `qabook quiz` pays only for what it uses.

EXIT_OK = 0
EXIT_REVIEW = 1
EXIT_INPUT = 2


def _formats_help() -> str:
    from qabook.formats import READERS, WRITERS

    return "\n".join(
        ["\b", "Output formats, chosen by OUTPUT's extension:"]
        + [f"  {', '.join(w.extensions):<16} {w.description}" for w in WRITERS]
        + ["", "\b", "Input formats, recognised by content:"]
        + [f"  {r.name:<16} {r.description}" for r in READERS]
    )


class _FormatsEpilog(click.Command):
    """A command whose help ends with the table of formats (built when help is shown)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _formats_help()
        super().format_epilog(ctx, formatter)


class ReaderChoice(click.Choice[str]):
    """``--from``: the reader names, looked up when the option is used."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from qabook.formats import READERS

        return tuple(r.name for r in READERS)

    @choices.setter
    def choices(self, value: Any) -> None:
        pass


# Commands that live in their own modules: each module defines ``COMMANDS`` (click commands).
# The table names them so that a command's module is imported only when that command runs.
COMMAND_MODULES: dict[str, str] = {
    "check": "qabook.audit.commands",
    "verify": "qabook.audit.commands",
    "search": "qabook.study.commands",
    "quiz": "qabook.study.commands",
    "list": "qabook.commands.listing",
    "serve": "qabook.web.commands",
}


class _LazyGroup(click.Group):
    """The ``qabook`` group: commands of :data:`COMMAND_MODULES` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            for command in import_module(COMMAND_MODULES[cmd_name]).COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)


def _fail(name: str, message: str) -> NoReturn:
    click.echo(f"qabook: error: {name}: {message}", err=True)
    sys.exit(EXIT_INPUT)


PARALLEL_FROM = 1 << 20
"""Inputs this big (bytes) are converted by two processes where reader and writer allow it (see
:func:`qabook.pipeline.convert`); below, the second process costs more than it saves."""


GC_THRESHOLD = (50_000, 20, 20)
"""The garbage collector's thresholds for a conversion (Python's are 700, 10, 10)."""


def _batch_gc() -> None:
    """Tune the garbage collector for a conversion, which runs once and exits: what is loaded so
    far (modules, tables) is set aside for good, and a collection runs every 50,000 new objects
    instead of every 700. A conversion makes millions of small objects that reference counting
    frees (the model is a tree, without cycles), so the frequent collections only traversed
    live ones: this takes about 5% off a conversion, for at most a few megabytes of cyclic
    garbage waiting a little longer."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qabook")
def main() -> None:
    """Find the Q&A inside AI chat transcripts and turn it into faithful documents.

    Everything runs on this machine; nothing is uploaded anywhere.
    """


@main.command(cls=_FormatsEpilog)
@click.argument("input_path", metavar="INPUT", type=click.Path(allow_dash=True))
@click.option("-o", "--output", metavar="OUTPUT",
              help="Output file (default: INPUT with .docx; '-' writes Markdown to stdout).")
@click.option("--rendition", default="auto", show_default=True, metavar="auto|first|last|N",
              help="When the numbered set appears more than once: take per item the best-structured "
                   "rendition with the earliest one's words (auto), or one rendition for all.")
@click.option("--title", help="Document title (default: from the batch headings or file name).")
@click.option("--report", "report_path", metavar="FILE.json", type=click.Path(),
              help="Also write the summary as JSON.")
@click.option("--repair/--no-repair", "repair", default=None,
              help="Run the repair passes for copy damage, or keep the text as read (default: repair "
                   "chat transcripts, leave exports, Markdown and Word files as they are).")
@click.option("--from", "from_format", metavar="FORMAT", type=ReaderChoice(),
              help="Read INPUT as this format instead of recognising it by content.")
@click.option("--select", "select", metavar="TEXT",
              help="Keep only the sections (conversations) whose title contains TEXT "
                   "(or matches it as a pattern with * ? [). See `qabook list`.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Keep only conversations from this day on (sections dated in their title).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Keep only conversations up to this day.")
@click.option("--audit-appendix", is_flag=True,
              help="Add the review (`qabook check`) as a last chapter, with links to the items it names.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def convert(input_path: str, output: str | None, rendition: str, title: str | None,
            report_path: str | None, repair: bool | None, from_format: str | None,
            select: str | None, since: Any, until: Any, audit_appendix: bool, quiet: bool,
            debug: bool) -> None:
    """Convert a chat transcript (or qabook Markdown/JSON) to DOCX, Markdown or JSON.

    INPUT is a file, or '-' for standard input. The summary lists the items found per section,
    the renditions, each repair with its count, what was skipped and any warnings.
    """
    from qabook.formats import writer_for
    from qabook.pipeline import Options, check_folder, convert as convert_file, default_output, document_date, load
    from qabook.pipeline import write_file

    _batch_gc()
    name = "-" if input_path == "-" else input_path
    try:
        out = output or default_output(name)
        writer = writer_for(out) if out != "-" else None
        if out != "-" and name != "-" and _same_file(name, out):
            raise InputError(f"output {out!r} is the input file; choose another name")
        if report_path and name != "-" and _same_file(name, report_path):
            raise InputError(f"report {report_path!r} is the input file; choose another name")
        if report_path and out != "-" and _same_file(out, report_path):
            raise InputError(f"report {report_path!r} is the output file; choose another name")
        if report_path:
            check_folder(report_path)  # before the output is written, so a bad report path leaves nothing
        options = Options(rendition=rendition, title=title, repairs=repair, reader=from_format)
        data = sys.stdin.buffer.read() if name == "-" else None
        if name != "-":
            _check_input(name)
        path = None if name == "-" else name
        date = document_date(path)
        keep = None
        if select or since or until:
            from qabook.commands.listing import section_filter

            keep = section_filter(select, since.date() if since else None, until.date() if until else None)
        if out != "-" and not audit_appendix:
            # sections go from the reader to the writer as they are read (flat memory for big exports)
            from qabook.progress import progress_bar

            bar = None if quiet else progress_bar(os.path.basename(name), _console(), quiet)
            try:
                # a big file that can be cut in two (qabook's own Markdown to DOCX) is converted by
                # two processes, one half each (same output), when a core is free for the second
                from qabook.pipeline import spare_core

                parallel = path is not None and os.path.getsize(path) >= PARALLEL_FROM and spare_core()
                report, _ = convert_file(data, name, out, options, path=path, date=date, writer=writer,
                                         keep=keep, progress=bar, parallel=parallel)
            finally:
                if bar is not None:
                    bar.close()
        else:
            result = load(data, name, options, path=path, keep=keep)
            if audit_appendix:
                result = _with_review(result)
            if out == "-":
                _write_stdout(result.document)
                writer_name = "markdown"
            else:
                writer_name = write_file(result.document, out, date, writer).name
            report = _with_output(result.report, out, writer_name, result.document)
        if report_path:
            _write_report(report, report_path)
    except InputError as exc:
        if debug:
            raise
        _fail(name, str(exc))
    except OSError as exc:
        if debug:
            raise
        _fail(exc.filename or name, exc.strerror or str(exc))
    if not quiet:
        print_summary(report, _console())


@main.command()
@click.option("-o", "--output", default="qabook-demo.docx", show_default=True,
              help="Where to write the demo document.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def demo(output: str, debug: bool) -> None:
    """Convert the example transcript that ships with qabook and write qabook-demo.docx.

    The example is a short chat with numbered Q&A in two renditions and every kind of copy
    damage qabook repairs. Its text is written next to the output as qabook-demo.txt (a file of
    that name that holds something else is never overwritten).
    """
    from importlib import resources
    from pathlib import Path

    from qabook.formats import writer_for
    from qabook.pipeline import Options, check_folder, load, write_bytes, write_file

    data = resources.files("qabook.examples").joinpath("demo-transcript.txt").read_bytes()
    text_path = str(Path(output).with_suffix(".txt"))
    current = output
    try:
        writer = writer_for(output)
        check_folder(output)
        current = text_path
        if os.path.lexists(text_path) and not _holds(text_path, data):
            raise InputError("exists and is not qabook's demo transcript; choose another --output")
        current = output
        result = load(data, "demo-transcript.txt", Options())
        write_file(result.document, output, None, writer)
        current = text_path
        write_bytes(data, text_path)
    except (InputError, OSError) as exc:
        if debug:
            raise
        _fail(current, str(exc) if isinstance(exc, InputError) else (exc.strerror or str(exc)))
    report = _with_output(result.report, output, writer.name)
    print_summary(report, _console())


def _holds(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(data) + 1) == data
    except OSError:
        return False


def _console() -> Console:
    from rich.console import Console  # rich is only needed when there is something to print

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _with_review(result: Any) -> Any:
    """The result with the review appended as the document's last section."""
    from dataclasses import replace

    from qabook.audit.appendix import with_appendix
    from qabook.audit.check import review

    return replace(result, document=with_appendix(result.document, review(result)))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_input(name: str) -> None:
    from pathlib import Path

    path = Path(name)
    if not path.exists():
        raise InputError("no such file")
    if path.is_dir():
        raise InputError("is a folder, not a file")


def _write_stdout(doc: object) -> None:
    from qabook.writers import markdown

    assert hasattr(doc, "sections")
    sys.stdout.write(markdown.render(doc))  # type: ignore[arg-type]
    sys.stdout.flush()


def _with_output(report: Report, output: str, writer: str, doc: object = None) -> Report:
    """The report with the output named, and for writers that turn TeX into equations (DOCX,
    HTML) a warning per formula that stays TeX, with the reason."""
    from dataclasses import replace

    from qabook.formats import WRITERS
    from qabook.pipeline import formula_warnings

    warnings = report.warnings
    if doc is not None and any(w.name == writer and w.equations for w in WRITERS):
        warnings += tuple(formula_warnings(doc))  # type: ignore[arg-type]
    return replace(report, output=output, writer=writer, warnings=warnings)


def _write_report(report: Report, path: str) -> None:
    import json

    from qabook.pipeline import write_text

    write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n", path)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


_SKIPPED_LABELS = {
    "speaker line": ("speaker line", ""),
    "chat between batches": ("paragraph", " of chat between batches"),
    "before the Q&A": ("paragraph", " before the Q&A"),
    "closing exchange": ("paragraph", " of the closing exchange"),
}


def _skipped(kind: str, count: int) -> str:
    noun, tail = _SKIPPED_LABELS.get(kind, (kind, ""))
    return _n(count, noun) + tail


def print_summary(report: Report, console: Console) -> None:
    """The human summary of a conversion."""
    from rich.table import Table

    console.print(
        f"[bold]{report.source}[/] → [bold]{report.output}[/]  "
        f"({report.reader} → {report.writer}; {_n(report.items, 'item')}, "
        f"{report.answered} answered, {_n(len(report.sections), 'section')})"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Section")
    table.add_column("Items", justify="right")
    for title, n in report.sections:
        table.add_row(title, str(n))
    console.print(table)
    r = report.renditions
    if r.count > 1:
        per = " + ".join(str(n) for n in r.items_per_rendition)
        chosen = ", ".join(f"{n} from rendition {i + 1}" for i, n in enumerate(r.chosen_per_rendition) if n)
        console.print(f"[bold]Renditions:[/] {r.count} ({per} items); {r.mode}: {chosen}")
        if r.differences:
            nums = ", ".join(f"Q{d.number}" for d in r.differences)
            console.print(f"  Renditions differ in words for {_n(len(r.differences), 'item')} "
                          f"(kept rendition {r.differences[0].kept}): {nums}")
    if report.repairs:
        console.print("[bold]Repairs:[/]")
        for rep in report.repairs:
            console.print(f"  {rep.name:<12} {rep.count:>5}  {rep.description}")
            for note in rep.notes[:5]:
                console.print(f"  {'':<12} {'':>5}  [dim]{note}[/]")
            if len(rep.notes) > 5:
                console.print(f"  {'':<12} {'':>5}  [dim]… {len(rep.notes) - 5} more in --report[/]")
    if report.skipped:
        parts = ", ".join(_skipped(kind, n) for kind, n in report.skipped)
        console.print(f"[bold]Skipped (not Q&A):[/] {parts}")
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}")


if __name__ == "__main__":  # pragma: no cover
    main()
