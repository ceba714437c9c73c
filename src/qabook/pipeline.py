"""The conversion pipeline as a library: bytes -> reader -> repairs -> renditions -> writer.

``load`` does everything but writing and returns the whole document with a :class:`Report`;
``convert`` reads and writes in one go, handing sections to the writer chunk by chunk where the
reader and the writer can (a big export then never sits in memory as one model);
``open_conversion`` is the step both are made of. ``write_file`` writes a document atomically
(a temporary file in the target folder, renamed into place only when complete), so a failed
conversion never leaves a partial file behind.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import signal
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from qabook.formats import ReaderFormat, WriterFormat, pick_reader, reader_named, writer_for
from qabook.model import Document, Section
from qabook.readers.base import InputError, Skipped, Streamed
from qabook.renditions import RenditionError, RenditionReport, RenditionTally, check_mode, resolve
from qabook.repair import RepairResult, repair
from qabook.source import Source, clean_document


@dataclass(frozen=True, slots=True)
class Options:
    """How to convert."""

    rendition: str = "auto"
    """``auto``, ``first``, ``last`` or a rendition number."""
    title: str | None = None
    """Document title; by default the reader's guess."""
    repairs: bool | None = None
    """Run the repair passes: by default only for text copied from a chat page (transcripts),
    where copy damage happens; True or False decides for any input."""
    reader: str | None = None
    """Force an input format by name instead of sniffing."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a conversion found and did, for the summary and ``--report``."""

    source: str
    reader: str
    encoding: str
    items: int
    answered: int
    sections: tuple[tuple[str, int], ...]
    renditions: RenditionReport
    repairs: tuple[RepairResult, ...]
    skipped: tuple[tuple[str, int], ...]
    """(kind, count) in order of first appearance."""
    skipped_examples: tuple[Skipped, ...]
    """What was skipped, piece by piece (for an export at most a thousand of each kind)."""
    warnings: tuple[str, ...]
    output: str = ""
    writer: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        d = asdict(self)
        d["sections"] = [{"title": t, "items": n} for t, n in self.sections]
        d["skipped"] = {k: n for k, n in self.skipped}
        d["skipped_examples"] = [asdict(s) for s in self.skipped_examples]
        d["repairs"] = [asdict(r) for r in self.repairs]
        return d


@dataclass(frozen=True, slots=True)
class Result:
    """A loaded document and what happened on the way."""

    document: Document
    """The collection: one item per question, renditions resolved."""
    report: Report
    all_renditions: Document
    """Every item of every rendition, repaired, before choosing (what ``check`` compares)."""


_JSON_START_RE = re.compile(r'^\s*(?:\{\s*"|\[\s*[{\["\]])')

SectionFilter = Callable[[Section], bool]


class Conversion:
    """A conversion under way: the document's head, then its sections one at a time, then the report.

    Sections come out cleaned, repaired and with renditions resolved, chunk by chunk as the reader
    gives them (see :class:`~qabook.readers.base.Streamed`), so a writer that takes sections one
    at a time (``write_stream``) converts a big export without the whole collection in memory.
    :func:`open_conversion` makes one; :func:`load` collects one into a :class:`Result`.
    """

    def __init__(self, source: Source, reader: ReaderFormat, streamed: Streamed, options: Options,
                 keep: SectionFilter | None = None, keep_renditions: bool = False,
                 progress: Progress | None = None) -> None:
        self.source = source
        self.reader = reader
        self.head = streamed.head
        """The document without sections: title, source name, meta."""
        self._streamed = streamed
        self._options = options
        self._keep = keep
        self._keep_renditions = keep_renditions
        self.all_renditions: list[Section] = []
        """Every section before renditions were resolved (kept only when asked for)."""
        self._repairs: dict[str, tuple[str, int, list[str]]] = {}
        self._renditions = RenditionTally(options.rendition)
        self._sections: list[tuple[str, int]] = []
        self._items = 0
        self._answered = 0
        self._read = 0
        self._removed = 0
        self._done = False
        self._progress = progress
        self._child_report: Report | None = None

    def sections(self) -> Iterator[Section]:
        """The document's sections in order; iterate once. Raises :class:`InputError` at the end
        when the input held no Q&A (or nothing matched the section filter)."""
        options = self._options
        repairs = options.repairs if options.repairs is not None else self.reader.copied
        total, done = self._streamed.total_sections, 0
        for chunk in self._streamed.chunks:
            if self._progress is not None and total:
                self._progress("writing", done, total)
                done += len(chunk)
            part = Document(self.head.title, self.head.source, chunk)
            if self._streamed.escapes:
                part, removed = clean_document(part)
                self._removed += removed
            self._read += sum(len(s.items) for s in part.sections)
            if repairs:
                part, results = repair(part)
                for r in results:
                    _, count, notes = self._repairs.setdefault(r.name, (r.description, 0, []))
                    notes.extend(r.notes)
                    self._repairs[r.name] = (r.description, count + r.count, notes)
            if self._keep_renditions:
                self.all_renditions.extend(part.sections)
            try:
                part, rendition_report = resolve(part, options.rendition, strict=False)
            except RenditionError as exc:
                raise InputError(str(exc)) from None
            self._renditions.add(rendition_report)
            for section in part.sections:
                if self._keep is not None and not self._keep(section):
                    continue
                self._sections.append((section.title, len(section.items)))
                self._items += len(section.items)
                self._answered += sum(1 for it in section.items if it.status == "answered")
                yield section
        if not self._read:
            raise InputError("holds no questions and answers that qabook recognises")
        try:
            check_mode(options.rendition, self._renditions.count)
        except RenditionError as exc:
            raise InputError(str(exc)) from None
        if not self._items:
            raise InputError("no section matches --select/--since/--until (see `qabook list`)")
        self._done = True

    @property
    def lazy(self) -> bool:
        """Whether the reader reads as the sections are taken (so reading can run beside writing)."""
        return self._streamed.lazy

    def sections_in_child(self) -> Iterator[Section]:
        """:meth:`sections`, worked out in a forked process while this one writes what it gets.

        On a machine with two cores or more, reading, repairing and resolving run beside the
        writer; the sections come through a pipe in order, so the output is the same bytes as
        :meth:`sections` gives. The child sends each section, then the report (or the one-line
        error); progress goes through the pipe too, so only this process draws on the terminal.
        Needs ``os.fork`` (not on Windows): check :func:`can_fork` first.
        """
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 0
            try:
                os.close(read_fd)
                with open(write_fd, "wb", buffering=1 << 16) as out:
                    self._serve(out)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(write_fd)
        finished = False
        try:
            with open(read_fd, "rb", buffering=1 << 16) as inp:
                while True:
                    try:
                        kind, value = pickle.load(inp)
                    except EOFError:
                        raise RuntimeError("the process reading the input ended without a word") from None
                    if kind == "section":
                        yield value
                    elif kind == "progress":
                        if self._progress is not None:
                            self._progress(*value)
                    elif kind == "report":
                        self._child_report = value
                        self._done = True
                        finished = True
                        return
                    elif kind == "error":
                        raise InputError(value)
                    else:
                        raise RuntimeError(f"reading the input failed in its process:\n{value}")
        finally:
            if not finished:  # the writer stopped early: the child has nothing more to do
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def _serve(self, out: BinaryIO) -> None:
        """In the child: send the sections, then the report or the error, down ``out``."""

        def send(kind: str, value: object) -> None:
            pickle.dump((kind, value), out, protocol=pickle.HIGHEST_PROTOCOL)

        if self._progress is not None:
            shown = [0.0]

            def progress(phase: str, done: int, total: int) -> None:
                now = time.monotonic()
                if now - shown[0] >= 0.05:
                    shown[0] = now
                    send("progress", (phase, done, total))

            self._progress = progress
            self.source.progress = lambda done, total: progress("reading", done, total)
        try:
            for section in self.sections():
                send("section", section)
            send("report", self.report())
        except InputError as exc:
            send("error", str(exc))
        except BaseException:
            send("crash", traceback.format_exc())

    def report(self) -> Report:
        """What the conversion found and did; complete once :meth:`sections` is exhausted."""
        if not self._done:
            raise RuntimeError("the report is ready when every section has been read")
        if self._child_report is not None:
            return self._child_report
        streamed = self._streamed
        kinds = Counter(s.kind for s in streamed.skipped) + Counter(streamed.more_skipped)
        order = list(dict.fromkeys(s.kind for s in streamed.skipped))
        renditions = self._renditions.report()
        warnings = tuple(streamed.warnings)
        if self._removed:
            warnings += (f"{self._removed} control character(s) written as escapes or entities removed "
                         "(not allowed in documents)",)
        return Report(
            source=self.source.name if self.source.name != "-" else "-",
            reader=self.reader.name,
            encoding=self.source.encoding,
            items=self._items,
            answered=self._answered,
            sections=tuple(self._sections),
            renditions=renditions,
            repairs=tuple(RepairResult(name, description, count, tuple(notes))
                          for name, (description, count, notes) in self._repairs.items()),
            skipped=tuple((k, kinds[k]) for k in order),
            skipped_examples=tuple(streamed.skipped),
            warnings=self.source.warnings + warnings + renditions.warnings,
        )


Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as a conversion goes: ``"reading"`` in bytes of the input, then, for a
reader that reads everything before the first section, ``"writing"`` in sections."""


def open_conversion(data: bytes | None = None, name: str = "-", options: Options = Options(), *,
                    path: str | None = None, keep: SectionFilter | None = None,
                    keep_renditions: bool = False, progress: Progress | None = None) -> Conversion:
    """Start converting: choose the reader and read as far as it must before the first section.

    Give the input as ``data`` (bytes) or as a file ``path`` (read only as far as its reader
    needs, so big exports can stream); ``name`` is how the input is named in messages. ``keep``
    drops sections it says no to (``--select``); ``keep_renditions`` keeps every section as read,
    before renditions are resolved (what ``check`` compares); ``progress`` is told how far it got.
    Raises :class:`InputError` for unusable input, here or while the sections are read.
    """
    # the document names its source by file name only: a folder path is nobody's business
    shown = Path(name).name if name not in ("", "-") else "-"
    source = Source(shown, data=data) if path is None else Source(shown, path=path)
    if progress is not None:
        source.progress = lambda done, total: progress("reading", done, total)
    if not source.head().strip():
        raise InputError("is empty")
    reader = reader_named(options.reader) if options.reader else pick_reader(source)
    if reader.name == "transcript":
        if _JSON_START_RE.match(source.head_text()):
            raise InputError("is JSON but neither a qabook model nor a chat-app export qabook reads "
                             "(ChatGPT, Claude, Gemini)")
    if reader.stream is not None:
        streamed = reader.stream(source, options.title)
    else:
        reading = reader.read(source, options.title)
        streamed = Streamed.whole(reading, _may_hide_characters(source))
    return Conversion(source, reader, streamed, options, keep, keep_renditions, progress)


def load(data: bytes | None = None, name: str = "-", options: Options = Options(),
         *, path: str | None = None, keep: SectionFilter | None = None) -> Result:
    """Read, repair and resolve renditions: the whole document. Raises :class:`InputError` for
    unusable input. (See :func:`open_conversion` for the arguments.)"""
    conversion = open_conversion(data, name, options, path=path, keep=keep, keep_renditions=True)
    sections = tuple(conversion.sections())
    doc = replace(conversion.head, sections=sections)
    report = replace(conversion.report(), source=name)
    return Result(doc, report, replace(conversion.head, sections=tuple(conversion.all_renditions)))


def can_fork() -> bool:
    """Whether reading can run in a second process beside the writer (fork and two cores)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def spare_core() -> bool:
    """Whether a core is free for a second process: the last minute's load leaves one idle.
    (On a busy machine the second process only adds the cost of sending sections across.)"""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return False
    return load <= (os.cpu_count() or 1) - 1


def convert(data: bytes | None, name: str, output: str, options: Options = Options(), *,
            path: str | None = None, date: dt.date | None = None, writer: WriterFormat | None = None,
            keep: SectionFilter | None = None, progress: Progress | None = None,
            parallel: bool = False) -> tuple[Report, WriterFormat]:
    """Convert an input to ``output`` atomically, streaming where reader and writer allow it.

    Returns the report and the writer used. A writer without ``write_stream`` gets the whole
    document; one with it gets the sections as they are read, so memory stays flat. With
    ``parallel`` (and :func:`can_fork`), a reader that reads as sections are taken runs in a
    forked process beside the writer (:meth:`Conversion.sections_in_child`); the output is the
    same. Only for single-threaded programs such as the command line: forking a process that
    runs other threads is unsafe.
    """
    w = writer or writer_for(output)
    check_folder(output)
    conversion = open_conversion(data, name, options, path=path, keep=keep, progress=progress)
    unconverted: list[str] = []
    if parallel and w.write_stream is not None and conversion.lazy and can_fork():
        sections = conversion.sections_in_child()
    else:
        sections = conversion.sections()
    if w.write_stream is not None:
        stream = w.write_stream
        # a streaming writer reports the formulas it had to keep as TeX itself
        _write_atomic(output, lambda fh: unconverted.extend(stream(conversion.head, sections, fh, date)))
    else:
        if w.equations:
            sections = _checking_formulas(sections, unconverted)
        doc = replace(conversion.head, sections=tuple(sections))
        _write_atomic(output, lambda fh: w.write(doc, fh, date))
    report = conversion.report()
    report = replace(report, source=name, output=output, writer=w.name,
                     warnings=report.warnings + tuple(unconverted))
    return report, w


def formula_warnings(doc: Document) -> list[str]:
    """A warning per formula that a writer of equations keeps as TeX, with the reason."""
    from qabook.math.check import check_formulas, formula_warning

    return [formula_warning(number, tex, reason) for number, tex, reason in check_formulas(doc)]


def _checking_formulas(sections: Iterator[Section], warnings: list[str]) -> Iterator[Section]:
    for section in sections:
        warnings.extend(formula_warnings(Document("", "", (section,))))
        yield section


def _may_hide_characters(source: Source) -> bool:
    """Whether the input may spell characters no document may hold so that decoding let them pass:
    as ``&#1;`` (Markdown, HTML) or ``\\u0001`` (JSON). Decoded text is searched for the spelling;
    a streamed export is always cleaned (its cost is small next to reading the JSON)."""
    decoded = source.decoded
    if decoded is None:
        return True
    return "&#" in decoded.text or "\\u" in decoded.text


def default_output(input_name: str) -> str:
    """INPUT's name with ``.docx`` (``qabook.docx`` for standard input)."""
    if input_name in ("", "-"):
        return "qabook.docx"
    return str(Path(input_name).with_suffix(".docx"))


def document_date(input_path: str | None) -> dt.date | None:
    """The date shown in a document: ``SOURCE_DATE_EPOCH``, else the input file's date.

    Never "now": converting the same file twice must give the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise InputError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    if input_path and input_path != "-":
        try:
            return dt.datetime.fromtimestamp(os.stat(input_path).st_mtime, tz=dt.timezone.utc).date()
        except OSError:
            return None
    return None


def write_file(doc: Document, output: str, date: dt.date | None = None,
               writer: WriterFormat | None = None) -> WriterFormat:
    """Write ``doc`` to ``output`` atomically; returns the writer used."""
    w = writer or writer_for(output)
    _write_atomic(output, lambda fh: w.write(doc, fh, date))
    return w


def write_text(text: str, output: str) -> None:
    """Write ``text`` (UTF-8) to ``output`` atomically, as :func:`write_file` writes documents."""
    write_bytes(text.encode("utf-8"), output)


def write_bytes(data: bytes, output: str) -> None:
    """Write ``data`` to ``output`` atomically, as :func:`write_file` writes documents."""
    _write_atomic(output, lambda fh: fh.write(data))


def check_folder(output: str) -> None:
    """Raise :class:`InputError` when ``output``'s folder does not exist (before any work is done)."""
    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {output!r}: folder {str(folder)!r} does not exist")


def _write_atomic(output: str, fill: Callable[[BinaryIO], object]) -> None:
    """A temporary file in the target folder, filled, then renamed into place; removed on failure.

    A failure to write is an :class:`InputError` naming ``output`` (never the temporary file).
    """
    check_folder(output)
    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {output!r}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {output!r}: {exc.strerror or exc}") from exc
        raise
