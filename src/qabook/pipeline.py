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
import mmap
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
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from qabook.formats import ReaderFormat, WriterFormat, pick_reader, reader_named, writer_for
from qabook.model import Document, Section
from qabook.readers.base import Cut, InputError, Skipped, Streamed, unanswered_warning
from qabook.renditions import RenditionError, RenditionReport, RenditionTally, check_mode, resolve
from qabook.source import Source, clean_document

if TYPE_CHECKING:  # the repair passes are loaded only for an input that gets them
    from qabook.repair import RepairResult


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
        self._part_warnings: tuple[str, ...] = ()

    def sections(self, check: bool = True) -> Iterator[Section]:
        """The document's sections in order; iterate once. Raises :class:`InputError` at the end
        when the input held no Q&A (or nothing matched the section filter); with ``check`` False
        (a part of an input) that is left to :meth:`check`."""
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
                from qabook.repair import repair

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
        if check:
            self.check()

    def check(self) -> None:
        """Once every section was read: raise :class:`InputError` when the input held no Q&A,
        the rendition asked for is not there, or no section matched the section filter."""
        options = self._options
        if not self._read:
            raise InputError("holds no questions and answers that qabook recognises")
        try:
            check_mode(options.rendition, self._renditions.count)
        except RenditionError as exc:
            raise InputError(str(exc)) from None
        if not self._items:
            raise InputError("no section matches --select/--since/--until (see `qabook list`)")
        self._done = True


    def part(self) -> PartState:
        """What this conversion of a later part of an input adds to the report (see :meth:`join`);
        for once every section was read."""
        streamed = self._streamed
        return PartState(tuple(self._sections), self._items, self._answered, self._read, self._removed,
                         self._renditions.report(), tuple(streamed.skipped), dict(streamed.more_skipped),
                         tuple(streamed.warnings), tuple(streamed.unanswered), self.source.warnings)

    def join(self, part: PartState) -> None:
        """Count in a later part of the input, read by another conversion (:meth:`part`), so that
        :meth:`report` and :meth:`check` are those of the whole."""
        self._sections.extend(part.sections)
        self._items += part.items
        self._answered += part.answered
        self._read += part.read
        self._removed += part.removed
        self._renditions.add(part.renditions)
        streamed = self._streamed
        streamed.skipped.extend(part.skipped)
        for kind, n in part.more_skipped.items():
            streamed.more_skipped[kind] = streamed.more_skipped.get(kind, 0) + n
        streamed.warnings.extend(part.warnings)
        streamed.unanswered.extend(part.unanswered)
        self._part_warnings += part.source_warnings

    def report(self) -> Report:
        """What the conversion found and did; complete once :meth:`sections` is exhausted."""
        if not self._done:
            raise RuntimeError("the report is ready when every section has been read")
        repairs: tuple[RepairResult, ...] = ()
        if self._repairs:
            from qabook.repair import RepairResult

            repairs = tuple(RepairResult(name, description, count, tuple(notes))
                            for name, (description, count, notes) in self._repairs.items())
        streamed = self._streamed
        kinds = Counter(s.kind for s in streamed.skipped) + Counter(streamed.more_skipped)
        order = list(dict.fromkeys(s.kind for s in streamed.skipped))
        renditions = self._renditions.report()
        warnings = tuple(streamed.warnings)
        if streamed.unanswered:
            warnings += (unanswered_warning(streamed.unanswered),)
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
            repairs=repairs,
            skipped=tuple((k, kinds[k]) for k in order),
            skipped_examples=tuple(streamed.skipped),
            warnings=self.source.warnings + self._part_warnings + warnings + renditions.warnings,
        )


@dataclass(frozen=True, slots=True)
class PartState:
    """What a conversion of a later part of an input counted (:meth:`Conversion.part`), sent from
    the process that read it to the one that reports on the whole (:meth:`Conversion.join`)."""

    sections: tuple[tuple[str, int], ...]
    items: int
    answered: int
    read: int
    removed: int
    renditions: RenditionReport
    skipped: tuple[Skipped, ...]
    more_skipped: dict[str, int]
    warnings: tuple[str, ...]
    unanswered: tuple[int, ...]
    source_warnings: tuple[str, ...]


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
    source, reader = _open(data, name, options, path, progress)
    return _conversion(source, reader, options, keep, keep_renditions, progress)


def _open(data: bytes | None, name: str, options: Options, path: str | None,
          progress: Progress | None) -> tuple[Source, ReaderFormat]:
    """The input as a :class:`Source`, and the reader for it."""
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
    return source, reader


def _conversion(source: Source, reader: ReaderFormat, options: Options, keep: SectionFilter | None = None,
                keep_renditions: bool = False, progress: Progress | None = None) -> Conversion:
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


def usable_cpus() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a second process can convert part of the input (fork and two cores)."""
    return hasattr(os, "fork") and usable_cpus() > 1


LOADAVG = "/proc/loadavg"


def _running_now() -> int | None:
    """Processes running or ready to run now, this one included (Linux; the least of three looks
    a millisecond apart, as one look may catch a short-lived task)."""
    counts = []
    for i in range(3):
        try:
            with open(LOADAVG, "rb") as f:
                counts.append(int(f.read().split()[3].split(b"/")[0]))
        except (OSError, ValueError, IndexError):
            return None
        if i < 2:
            time.sleep(0.001)
    return min(counts)


def spare_core() -> bool:
    """Whether a core is free for a second process: as many processes want to run now as leave
    one core idle besides this one (where that cannot be seen, the last minute's load average).
    On a busy machine the second process only shares this one's time, and adds its own work."""
    cpus = usable_cpus()
    if cpus < 2:
        return False
    running = _running_now()
    if running is not None:
        return running <= cpus - 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return False
    return load <= cpus - 1


def convert(data: bytes | None, name: str, output: str, options: Options = Options(), *,
            path: str | None = None, date: dt.date | None = None, writer: WriterFormat | None = None,
            keep: SectionFilter | None = None, progress: Progress | None = None,
            parallel: bool = False) -> tuple[Report, WriterFormat]:
    """Convert an input to ``output`` atomically, streaming where reader and writer allow it.

    Returns the report and the writer used. A writer without ``write_stream`` gets the whole
    document; one with it gets the sections as they are read, so memory stays flat.

    With ``parallel`` (and :func:`can_fork`), a file whose reader can cut it in two
    (:attr:`~qabook.formats.ReaderFormat.cut`) for a writer that can write a part
    (:attr:`~qabook.formats.WriterFormat.write_part`) is converted by two processes: a forked one
    reads and writes the second half while this one does the first, then joins it. The output
    and the report are the same as without. Only for single-threaded programs such as the
    command line: forking a process that runs other threads is unsafe.
    """
    w = writer or writer_for(output)
    check_folder(output)
    source, reader = _open(data, name, options, path, progress)
    repairs = options.repairs if options.repairs is not None else reader.copied
    if (parallel and reader.cut is not None and w.write_part is not None and not repairs
            and path is not None and can_fork()):
        at = reader.cut(source)
        if at is not None:
            return _convert_in_parts(source, name, reader, at, output, w, options, date, keep, progress), w
    conversion = _conversion(source, reader, options, keep, progress=progress)
    unconverted: list[str] = []
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
    return _final_report(conversion, name, output, w, unconverted), w


def _final_report(conversion: Conversion, name: str, output: str, w: WriterFormat,
                  unconverted: list[str]) -> Report:
    report = conversion.report()
    return replace(report, source=name, output=output, writer=w.name,
                   warnings=report.warnings + tuple(unconverted))


def _convert_in_parts(source: Source, name: str, reader: ReaderFormat, at: Cut, output: str, w: WriterFormat,
                      options: Options, date: dt.date | None, keep: SectionFilter | None,
                      progress: Progress | None) -> Report:
    """:func:`convert` by two processes: a forked one converts the input from ``at`` on into a
    part (records in a temporary file, then its counts down a pipe) while this one converts the
    input before ``at`` and then joins the part. An error in either is the error one process
    would have raised first; a failure here ends the other process, which is always reaped."""
    assert reader.stream is not None and reader.stream_from is not None and w.write_part is not None
    assert w.write_stream is not None
    write_part, stream_from = w.write_part, reader.stream_from
    records = tempfile.TemporaryFile()
    read_fd, write_fd = os.pipe()
    # how far the second process has read, in bytes: memory both processes share, for progress
    shared = mmap.mmap(-1, 8)
    pid = os.fork()
    if pid == 0:  # the child: converts the second part, never returns
        status = 0
        try:
            os.close(read_fd)
            with open(write_fd, "wb") as pipe:
                try:
                    later = source.window(at.offset)
                    if progress is not None:
                        later.progress = lambda done, total: shared.__setitem__(slice(0, 8), done.to_bytes(8, "little"))
                    part = Conversion(later, reader, stream_from(later, at), options, keep)
                    summary = write_part(part.sections(check=False), records)
                    message: tuple[str, object] = ("part", (summary, part.part()))
                except InputError as exc:
                    message = ("error", str(exc))
                except BaseException:
                    message = ("crash", traceback.format_exc())
                pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    finished = False
    try:
        # the first part ends with the newline before the cut, so its last line is the one the
        # whole file gives there (an empty line), not an extra one
        earlier = source.window(0, at.offset - 1)
        size = os.path.getsize(source.path) if source.path else 0
        if progress is not None:  # the bytes both processes have read, out of the file's
            earlier.progress = lambda done, total: progress(
                "reading", done + int.from_bytes(shared[:8], "little"), size)
        first = Conversion(earlier, reader, reader.stream(earlier, options.title), options, keep,
                           progress=progress)

        def then() -> tuple[Any, BinaryIO]:
            nonlocal finished
            with open(read_fd, "rb", closefd=False) as pipe:
                try:
                    kind, value = pickle.load(pipe)
                except EOFError:
                    raise RuntimeError("the process converting the second part ended without a word") from None
            finished = True
            if progress is not None:
                progress("reading", size, size)
            if kind == "error":
                raise InputError(str(value))
            if kind != "part":
                raise RuntimeError(f"converting the second part failed in its process:\n{value}")
            summary, state = value
            first.join(state)
            first.check()
            records.seek(0)
            return summary, records

        unconverted: list[str] = []
        stream = w.write_stream
        _write_atomic(output, lambda fh: unconverted.extend(
            stream(first.head, first.sections(check=False), fh, date, then)))
        return _final_report(first, name, output, w, unconverted)
    finally:
        os.close(read_fd)
        if not finished:  # this part failed first: the other has nothing more to do
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        records.close()
        shared.close()


def formula_warnings(doc: Document) -> list[str]:
    """A warning per formula that a writer of equations keeps as TeX, with the reason."""
    from qabook.math.check import formula_warnings

    return formula_warnings(doc)


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
