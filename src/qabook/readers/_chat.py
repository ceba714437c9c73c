"""What the readers of chat-app exports share: streamed JSON, guarded ZIP members, conversations.

A data export (ChatGPT's, Claude's, Google Takeout's) can be a gigabyte of JSON. It is read here
one record at a time with ijson (:func:`iter_records`), so memory holds one conversation's JSON
tree, never the whole file's; records nested deeper than :data:`MAX_DEPTH` are refused, as are
damaged or truncated files, with a one-line :class:`InputError`.

A ZIP export is opened as it comes (:func:`open_zip`): member names that climb out of the archive
(``..``) or are absolute, archives that would unpack to more than :data:`MAX_UNPACKED` bytes, and
members compressed more than :data:`MAX_RATIO` times are refused before anything is unpacked, and a
member is read as a stream that stops at its declared size.

Each reader turns its records into :class:`Conversation` objects (the user's prompts and the
assistant's replies in order); :func:`conversation_section` makes one :class:`Section` of each:
the numbered Q&A found inside the replies when there is any (read by the transcript reader, so
batches, renditions and the chat between batches work as in a pasted transcript), else one item
per prompt with the reply that followed it as the answer.

What is not read into items is reported as :class:`Skipped`, by kind: "reasoning step", "tool
message", "system message", "off-branch message" (regenerated answers, edited prompts), "other
message", "attachment", "orphan answer" (a reply with no prompt before it), "prompt" (a prompt in a
conversation whose items are the numbered Q&A of its replies), "activity item" (Takeout activity
that is no prompt), and the transcript reader's kinds for the chat around numbered Q&A. A record
has no line in the source, so its ``line`` is 0.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections import Counter
import pickle
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from qabook.model import Block, Inline, Item, LineBreak, Origin, Paragraph, Section, Text
from qabook.readers.base import InputError, Skipped
from qabook.readers.commonmark import parse_blocks
from qabook.source import Source

if TYPE_CHECKING:
    from qabook.readers.base import Reading, Streamed

SKIPPED_EXAMPLES = 1000
"""Skipped pieces of one kind kept as examples; the rest are only counted."""
MAX_DEPTH = 256
"""Deepest JSON nesting accepted inside one record (real exports stay below 30)."""
MAX_UNPACKED = 16 * 1024**3
"""Largest total unpacked size of a ZIP archive."""
MAX_RATIO = 200
"""Largest compression ratio of one ZIP member bigger than :data:`RATIO_FLOOR` bytes."""
RATIO_FLOOR = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"

# --------------------------------------------------------------------------- streamed JSON


class Stream:
    """A minimal readable binary stream (ijson and zipfile need only ``read``)."""

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        return None

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Prefixed(Stream):
    """A stream with some bytes put back in front of it."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n is None or n < 0:
                out, self._prefix = self._prefix + self._rest.read(), b""
                return out
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            return out
        return self._rest.read(n)


def json_stream(stream: BinaryIO) -> BinaryIO:
    """The stream without a UTF-8 byte-order mark; UTF-16/32 JSON is refused."""
    first = stream.read(4)
    if first.startswith(codecs.BOM_UTF8):
        return _Prefixed(first[3:], stream)  # type: ignore[return-value]
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(first) > 1 and first[1:2] == b"\x00"):
        raise InputError("is JSON in UTF-16; save it as UTF-8")
    return _Prefixed(first, stream)  # type: ignore[return-value]


def _json_error(exc: Exception) -> InputError:
    text = str(exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    if "premature EOF" in reason or "Incomplete" in type(exc).__name__ and not text:
        return InputError("is truncated JSON (the file ends in the middle of a record)")
    return InputError(f"is not valid JSON ({reason[:120]})")


def iter_records(stream: BinaryIO, max_depth: int = MAX_DEPTH) -> Iterator[Any]:
    """Each element of a top-level JSON array, or a top-level object once, built one at a time.

    Stops at the end of the top-level value without reading further (so JSON embedded in a page
    can be read from its start). Raises :class:`InputError` for invalid, truncated or too deeply
    nested JSON.
    """
    import ijson

    try:
        events = ijson.basic_parse(json_stream(stream), use_float=True)
        first = next(events, None)
        if first is None:
            raise InputError("is empty")
        ev, val = first
        if ev == "start_array":
            while True:
                ev, val = next(events)
                if ev == "end_array":
                    return
                yield _build(ev, val, events, 1, max_depth)
        elif ev == "start_map":
            yield _build(ev, val, events, 0, max_depth)
        else:
            raise InputError("is JSON but holds no conversations (a single value)")
    except StopIteration:
        raise InputError("is truncated JSON (the file ends in the middle of a record)") from None
    except (ijson.JSONError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise _json_error(exc) from None


def _build(ev: str, val: Any, events: Iterator[tuple[str, Any]], depth: int, max_depth: int) -> Any:
    """One JSON value from parse events, without recursion."""
    if ev == "start_map":
        root: Any = {}
    elif ev == "start_array":
        root = []
    else:
        return val
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    if depth + 1 > max_depth:
        raise InputError(f"is JSON nested more than {max_depth} levels deep; not an export")
    for ev, val in events:
        if ev == "map_key":
            keys[-1] = val
            continue
        if ev == "end_map" or ev == "end_array":
            stack.pop()
            keys.pop()
            if not stack:
                return root
            continue
        top = stack[-1]
        if ev == "start_map":
            new: Any = {}
        elif ev == "start_array":
            new = []
        else:
            new = val
        if type(top) is dict:
            top[keys[-1]] = new
        else:
            top.append(new)
        if ev == "start_map" or ev == "start_array":
            stack.append(new)
            keys.append(None)
            if depth + len(stack) > max_depth:
                raise InputError(f"is JSON nested more than {max_depth} levels deep; not an export")
    raise InputError("is truncated JSON (the file ends in the middle of a record)")


# --------------------------------------------------------------------------- ZIP


def is_zip(source: Source) -> bool:
    return source.head().startswith(ZIP_MAGIC)


def zip_names(source: Source) -> list[str] | None:
    """The member names of a ZIP input (read from its directory only); [] when it is not a ZIP
    archive, None when it starts like one but its directory cannot be read."""
    if not is_zip(source):
        return []
    try:
        with source.open() as fh, zipfile.ZipFile(fh) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _unsafe_name(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in norm.split("/"))


def open_zip(source: Source) -> zipfile.ZipFile:
    """The input as a checked ZIP archive; raises :class:`InputError` for a hostile or damaged one."""
    fh = source.open()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        fh.close()
        raise InputError(f"is a ZIP archive but a damaged one ({str(exc)[:80]})") from None
    try:
        total = 0
        for info in zf.infolist():
            if _unsafe_name(info.filename):
                raise InputError(f"is a ZIP archive with an unsafe member name {info.filename[:80]!r}")
            total += info.file_size
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(
                    f"is a ZIP archive whose member {info.filename[:80]!r} unpacks "
                    f"{info.file_size // max(info.compress_size, 1)} times its packed size (a zip bomb?)"
                )
        if total > MAX_UNPACKED:
            raise InputError(f"is a ZIP archive that would unpack to {total / 1024**3:.1f} GiB "
                             f"(more than {MAX_UNPACKED / 1024**3:.0f} GiB)")
    except BaseException:
        zf.close()
        fh.close()
        raise
    return zf


class _Bounded(Stream):
    """A ZIP member stream that refuses to yield more than its declared size."""

    def __init__(self, inner: BinaryIO, limit: int, name: str) -> None:
        self._inner = inner
        self._left = limit
        self._name = name

    def close(self) -> None:
        self._inner.close()

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n if n is not None and n >= 0 else -1)
        self._left -= len(data)
        if self._left < 0:
            raise InputError(f"is a ZIP archive whose member {self._name[:80]!r} unpacks to more than it declares")
        return data


def open_member(zf: zipfile.ZipFile, name: str) -> BinaryIO:
    """One member as a bounded stream; damaged or encrypted members raise :class:`InputError`."""
    info = zf.getinfo(name)
    if info.flag_bits & 0x1:
        raise InputError(f"is a ZIP archive whose member {name[:80]!r} is encrypted")
    try:
        inner = zf.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, OSError, zlib.error) as exc:
        raise InputError(f"is a ZIP archive but a damaged one ({str(exc)[:80]})") from None
    return _Bounded(inner, info.file_size, name)  # type: ignore[arg-type, return-value]


def read_zip_member_head(source: Source, name: str, size: int = 65536) -> bytes:
    """The first bytes of one member, for sniffing (b"" when it cannot be read)."""
    try:
        with source.open() as fh, zipfile.ZipFile(fh) as zf, zf.open(name) as m:
            return m.read(size)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError, NotImplementedError,
            RuntimeError):
        return b""


def basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


class ZipErrors:
    """Turns errors raised while reading a ZIP member into one-line :class:`InputError`."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: Any, exc: Any, tb: Any) -> None:
        if exc is None or isinstance(exc, InputError):
            return
        if isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error)):
            raise InputError(f"is a ZIP archive but a damaged one ({str(exc)[:80]})") from None


# --------------------------------------------------------------------------- conversations


@dataclass
class Exchange:
    """One user prompt and what the assistant answered to it (text blocks in order)."""

    prompt: str
    reply: list[str] = field(default_factory=list)
    """The reply as Markdown texts (joined by blank lines)."""
    reply_blocks: tuple[Block, ...] | None = None
    """The reply already as blocks (for readers of HTML); ``reply`` is then ignored."""


@dataclass
class Conversation:
    """One conversation as a reader found it."""

    title: str
    created: dt.datetime | None
    exchanges: list[Exchange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stray_replies: int = 0
    """Assistant replies with no user prompt before them."""
    independent: bool = False
    """The exchanges are separate (one day of Takeout activity): numbered Q&A is looked for in runs
    of neighbouring replies that hold it, and the other exchanges stay items of their own."""


@lru_cache(maxsize=64)
def origin(rendition: int) -> Origin:
    """A shared :class:`Origin` (exports have no source lines to point at)."""
    return Origin(rendition, 0, 0)


def in_collection(section: Section, collection: int) -> Section:
    """The section with its items marked as collection ``collection`` (one per conversation), so
    numbered Q&A in different conversations is never taken for renditions of each other."""
    items = tuple(replace(it, origin=replace(it.origin, collection=collection)) for it in section.items)
    return Section(section.title, items, section.synthesized)


@lru_cache(maxsize=1024)
def skipped(kind: str, label: str) -> Skipped:
    """A shared :class:`Skipped` record (a big export skips millions of messages of few kinds)."""
    return Skipped(kind, 0, label)


def utc_from_timestamp(value: Any) -> dt.datetime | None:
    """A POSIX timestamp (seconds, as JSON number or string) as UTC, or None."""
    try:
        ts = float(value)
    except (TypeError, ValueError):
        return None
    if ts > 1e11:  # milliseconds
        ts /= 1000.0
    try:
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def utc_from_iso(value: Any) -> dt.datetime | None:
    """An ISO 8601 time ("2024-03-01T12:00:00.123456Z") as UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    m = re.match(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if m:  # fromisoformat of 3.11 wants 3 or 6 fraction digits
        frac = (m.group(2) or "")[:7].ljust(7, "0") if m.group(2) else ""
        text = m.group(1) + frac + m.group(3)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def section_title(title: str, created: dt.datetime | None) -> str:
    """"Title (YYYY-MM-DD)"."""
    title = " ".join((title or "").split()) or "Untitled"
    return f"{title} ({created.date().isoformat()})" if created else title


def question_inlines(text: str) -> tuple[Inline, ...]:
    """A user prompt as question inlines; paragraphs are joined by line breaks."""
    blocks = parse_blocks(text)
    if blocks and all(isinstance(b, Paragraph) for b in blocks):
        out: list[Inline] = []
        for b in blocks:
            assert isinstance(b, Paragraph)
            if out:
                out.append(LineBreak())
            out.extend(b.inlines)
        return tuple(out)
    out2: list[Inline] = []
    for line in text.splitlines():
        if line.strip():
            if out2:
                out2.append(LineBreak())
            out2.append(Text(line.strip()))
    return tuple(out2)


# a loose form of the transcript reader's question lines, to skip replies without any quickly
_NUMBERED_HINT_RE = re.compile(
    r"^\s{0,3}(?:\#{1,6}\s+)?(?:\*\*)?(?:\d{1,5}\s*[.)]\s*(?:\*\*)?\s*Q(?:\s*\d+)?|Q\d{1,5})\s*[:.)]",
    re.MULTILINE,
)
_SPEAKER = "ChatGPT said:"


def _reply_text(ex: Exchange) -> str:
    if ex.reply_blocks is not None:
        from qabook.writers import markdown

        return markdown.blocks(ex.reply_blocks)
    return "\n\n".join(t for t in ex.reply if t.strip())


def conversation_section(conv: Conversation, name: str) -> tuple[Section | None, list[Skipped], list[str]]:
    """The conversation as one section, with what was skipped and warnings."""
    title = conv.title
    skips = list(conv.skipped)
    warnings = [f"{title}: {w}" for w in conv.warnings]
    if conv.stray_replies:
        skips.extend([skipped("orphan answer", "assistant")] * conv.stray_replies)
    texts = [_reply_text(ex) if ex.reply_blocks is None or _maybe_numbered_blocks(ex) else "" for ex in conv.exchanges]
    hints = [len(_NUMBERED_HINT_RE.findall(t)) for t in texts]
    if conv.independent:
        runs: list[tuple[bool, list[int]]] = []
        for i, h in enumerate(hints):
            if runs and runs[-1][0] == (h > 0):
                runs[-1][1].append(i)
            else:
                runs.append((h > 0, [i]))
    else:
        runs = [(True, list(range(len(texts))))]
    items: list[Item] = []
    for numbered, idx in runs:
        found: list[Item] = []
        if numbered and sum(hints[i] for i in idx) >= 2:
            found, extra_skips, extra_warnings = _numbered_items([texts[i] for i in idx], name)
            if found:
                skips.extend(extra_skips)
                warnings.extend(f"{title}: {w}" for w in extra_warnings)
                skips.extend(skipped("prompt", "user") for i in idx if conv.exchanges[i].prompt.strip())
        if not found:
            found = _turn_items([conv.exchanges[i] for i in idx], [texts[i] for i in idx], skips)
        items.extend(found)
    if not items:
        return None, skips, warnings
    return Section(title, tuple(items)), skips, warnings


def _turn_items(exchanges: list[Exchange], texts: list[str], skips: list[Skipped]) -> list[Item]:
    """One item per prompt, the reply as its answer."""
    items: list[Item] = []
    for ex, text in zip(exchanges, texts):
        if not ex.prompt.strip():
            if ex.reply_blocks or text.strip():
                skips.append(skipped("orphan answer", "assistant"))
            continue
        if ex.reply_blocks is not None:
            answer = ex.reply_blocks
        else:
            answer = parse_blocks(text) if text.strip() else ()
        items.append(Item(
            number=None,
            question=question_inlines(ex.prompt),
            answer=answer,
            status="answered" if answer else "unanswered",
            origin=origin(1),
        ))
    return items


def _maybe_numbered_blocks(ex: Exchange) -> bool:
    """Whether an HTML reply could hold numbered Q&A (rendering it as Markdown costs time)."""
    from qabook.model import plain_text

    assert ex.reply_blocks is not None
    # cheap test on the paragraphs' and list items' text: a "Q" followed by ":" or a digit
    for b in ex.reply_blocks:
        for p in _walk_paragraphs(b):
            t = plain_text(p.inlines)[:40]
            if re.match(r"^\s*(?:\d{1,5}\s*[.)]\s*)?Q\s*\d*\s*[:.)]", t):
                return True
    return False


def _walk_paragraphs(b: Block) -> Iterator[Paragraph]:
    from qabook.model import BulletList, OrderedList, Quote

    if isinstance(b, Paragraph):
        yield b
    elif isinstance(b, (BulletList, OrderedList)):
        for li in b.items:
            for inner in li.blocks:
                yield from _walk_paragraphs(inner)
    elif isinstance(b, Quote):
        for inner in b.blocks:
            yield from _walk_paragraphs(inner)


def _numbered_items(texts: list[str], name: str) -> tuple[list[Item], list[Skipped], list[str]]:
    """The numbered Q&A of a conversation's replies, read as one transcript of replies."""
    from qabook.readers import transcript

    parts: list[str] = []
    for t in texts:
        if t.strip():
            parts.append(_SPEAKER)
            parts.append(t)
    try:
        reading = transcript.read("\n\n".join(parts) + "\n", name)
    except InputError:
        return [], [], []
    items: list[Item] = []
    for sec in reading.document.sections:
        for it in sec.items:
            if it.number is None:
                return [], [], []
            items.append(Item(it.number, it.question, it.answer, it.status, origin(it.origin.rendition)))
    skips = [Skipped(s.kind, 0, s.text[:120]) for s in reading.skipped if s.kind != "speaker line"]
    return items, skips, list(reading.warnings)


def unique_titles(titles: list[str]) -> list[str]:
    """Number repeated section titles ("New chat (2023-06-07)", "New chat (2023-06-07) #2")."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for t in titles:
        n = seen.get(t, 0) + 1
        seen[t] = n
        out.append(t if n == 1 else f"{t} #{n}")
    return out


def streamed_from(conversations: Iterator[Conversation], name: str, title: str | None, fmt: str,
                  default_title: str, meta: tuple[tuple[str, str], ...] = ()) -> Streamed:
    """Conversations as a streamed reading, each one section, oldest first (undated ones keep
    their place).

    Exports list conversations in no promised order, so every conversation is read before the
    first section can go out. To keep memory flat, each section is pickled to an unnamed temporary
    file as soon as it is made, and only its date, title and place in the file are kept; the
    sections are loaded back one at a time, in date order, as the stream is consumed. The file is
    private to this process (no name, deleted when closed), so nothing but what was written here
    is ever unpickled.
    """
    from qabook.model import Document
    from qabook.readers.base import Streamed

    spool = tempfile.TemporaryFile()
    try:
        found: list[tuple[dt.datetime | None, int, str, int]] = []
        skips: list[Skipped] = []
        kept: Counter[str] = Counter()
        more: dict[str, int] = {}
        warnings: list[str] = []
        count = 0
        only_title = ""
        for conv in conversations:
            count += 1
            only_title = conv.title
            section, s, w = conversation_section(conv, name)
            for skip in s:
                if kept[skip.kind] < SKIPPED_EXAMPLES:
                    kept[skip.kind] += 1
                    skips.append(skip)
                else:
                    more[skip.kind] = more.get(skip.kind, 0) + 1
            warnings.extend(w)
            if section is not None:
                found.append((conv.created, count, section.title, spool.tell()))
                pickle.dump(section, spool, protocol=pickle.HIGHEST_PROTOCOL)
        if count == 0:
            raise InputError(f"holds no {default_title.lower()}")
    except BaseException:
        spool.close()
        raise
    if all(created is not None for created, _, _, _ in found):
        found.sort(key=lambda t: (t[0], t[1]))
    titles = unique_titles([t for _, _, t, _ in found])
    head = Document(
        title=title or (" ".join(only_title.split()) if count == 1 and only_title else default_title),
        source=name,
        sections=(),
        meta=tuple(sorted((("format", fmt), ("conversations", str(count))) + meta)),
    )

    def chunks() -> Iterator[tuple[Section, ...]]:
        with spool:
            for n, ((_, _, _, offset), unique) in enumerate(zip(found, titles), start=1):
                spool.seek(offset)
                section = pickle.load(spool)
                yield (in_collection(Section(unique, section.items, section.synthesized), n),)

    return Streamed(head, chunks(), skips, warnings, more_skipped=more, total_sections=len(found))


def reading_from(conversations: Iterator[Conversation], name: str, title: str | None, fmt: str,
                 default_title: str, meta: tuple[tuple[str, str], ...] = ()) -> Reading:
    """Conversations as one reading (see :func:`streamed_from`)."""
    return collect(streamed_from(conversations, name, title, fmt, default_title, meta))


def collect(streamed: Streamed) -> Reading:
    """A streamed reading as a whole one."""
    from dataclasses import replace as _replace

    from qabook.readers.base import Reading

    sections = tuple(s for chunk in streamed.chunks for s in chunk)
    return Reading(_replace(streamed.head, sections=sections), tuple(streamed.skipped), tuple(streamed.warnings))
