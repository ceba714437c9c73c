"""The conversion pipeline as a library: bytes -> reader -> repairs -> renditions -> document.

``load`` does everything but writing and returns the document with a :class:`Report`;
``write_file`` writes a document atomically (a temporary file in the target folder, renamed into
place only when complete), so a failed conversion never leaves a partial file behind.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Callable

from qabook.formats import WriterFormat, pick_reader, reader_named, writer_for
from qabook.model import Document
from qabook.readers.base import InputError, Skipped
from qabook.renditions import RenditionError, RenditionReport, resolve
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


def load(data: bytes | None = None, name: str = "-", options: Options = Options(),
         *, path: str | None = None) -> Result:
    """Read, repair and resolve renditions. Raises :class:`InputError` for unusable input.

    Give the input as ``data`` (bytes) or as a file ``path`` (read only as far as its reader
    needs, so big exports can stream); ``name`` is how the input is named in messages.
    """
    # the document names its source by file name only: a folder path is nobody's business
    shown = Path(name).name if name not in ("", "-") else "-"
    source = Source(shown, data=data) if path is None else Source(shown, path=path)
    if not source.head().strip():
        raise InputError("is empty")
    reader = reader_named(options.reader) if options.reader else pick_reader(source)
    if reader.name == "transcript":
        if _JSON_START_RE.match(source.head_text()):
            raise InputError("is JSON but neither a qabook model nor a chat-app export qabook reads "
                             "(ChatGPT, Claude, Gemini)")
    reading = reader.read(source, options.title)
    doc, removed = clean_document(reading.document) if _may_hide_characters(source) else (reading.document, 0)
    if removed:
        reading = replace(reading, warnings=reading.warnings + (
            f"{removed} control character(s) written as escapes or entities removed (not allowed in documents)",))
    if not any(True for _ in doc.items()):
        raise InputError("holds no questions and answers that qabook recognises")
    decoded = source.decoded
    repairs: tuple[RepairResult, ...] = ()
    if options.repairs if options.repairs is not None else reader.copied:
        doc, repairs = repair(doc)
    repaired = doc
    try:
        doc, rendition_report = resolve(doc, options.rendition)
    except RenditionError as exc:
        raise InputError(str(exc)) from None
    kinds = Counter(s.kind for s in reading.skipped)
    order = list(dict.fromkeys(s.kind for s in reading.skipped))
    items = list(doc.items())
    report = Report(
        source=name,
        reader=reader.name,
        encoding=decoded.encoding if decoded else "",
        items=len(items),
        answered=sum(1 for it in items if it.status == "answered"),
        sections=tuple((s.title, len(s.items)) for s in doc.sections),
        renditions=rendition_report,
        repairs=repairs,
        skipped=tuple((k, kinds[k]) for k in order),
        skipped_examples=reading.skipped,
        warnings=(decoded.warnings if decoded else ()) + reading.warnings + rendition_report.warnings,
    )
    return Result(doc, report, repaired)


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
