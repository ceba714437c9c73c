"""Reading the upload form as it streams in, straight into the upload's folder, with a size cap.

The form is ``multipart/form-data`` (what a browser sends for a form with a file input, with or
without JavaScript). A ``file`` part and the ``text`` part (pasted text) are written to disk as
they arrive, never held in memory; other fields are short options kept in memory. Their bytes
together may not exceed the cap: the moment they do, reading stops with :class:`FormError` 413.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, AsyncIterator

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

FIELD_LIMIT = 4096
"""Bytes an option field may hold."""
MAX_FIELDS = 64
FORM_OVERHEAD = 1 << 20
"""Bytes a request may hold beyond the cap: part headers, boundaries and option fields."""
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class FormError(Exception):
    """The form cannot be used: an HTTP status, a short title and a sentence for the page."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def too_large(cap: int) -> FormError:
    return FormError(413, "Too large",
                     f"This is larger than the {human_size(cap)} qabook accepts. Start qabook with a higher "
                     f"limit (for example qabook serve --max-upload {human_size(cap * 2).replace(' ', '')}) "
                     "or convert it on the command line with qabook convert.")


def human_size(n: float) -> str:
    """``500 MB``, ``1.5 GB``, ``12 KB``, ``300 bytes`` (powers of 1024)."""
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            text = f"{n:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    raise AssertionError  # pragma: no cover


def display_name(raw: str) -> str:
    """A client's file name made safe to show: its last path component, no control characters.

    It is shown on the page and used (after :func:`download_stem`) in download names, never as a
    path on this machine.
    """
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = _CONTROL_RE.sub("", name).strip()
    if len(name) > 120:
        name = name[:100] + "…" + name[-19:]
    return name


@dataclass
class Received:
    """What the form held."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file_name: str | None = None
    """The chosen file's name as the browser gave it (cleaned by :func:`display_name`)."""
    file: Path | None = None
    file_size: int = 0
    text: Path | None = None
    text_size: int = 0

    def value(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default


class _Reader:
    def __init__(self, folder: Path, cap: int, charset: str) -> None:
        self.folder = folder
        self.cap = cap
        self.charset = charset
        self.form = Received()
        self.payload = 0
        self.fields = 0
        self.file_parts: list[tuple[str, Path, int]] = []
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._filename: str | None = None
        self._sink: IO[bytes] | None = None
        self._path: Path | None = None
        self._size = 0
        self._data = bytearray()
        self._kind = ""

    # callbacks of python-multipart
    def on_part_begin(self) -> None:
        self._disposition = b""
        self._name, self._filename, self._size, self._kind = "", None, 0, ""
        self._data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._name = params.get(b"name", b"").decode(self.charset, "replace")
        raw_filename = params.get(b"filename")
        self._filename = raw_filename.decode(self.charset, "replace") if raw_filename is not None else None
        if self._name == "file" and self._filename is not None:
            self._kind = "file"
            self._path = self.folder / f"file-{len(self.file_parts)}"
        elif self._name == "text":
            self._kind = "text"
            self._path = self.folder / "text"
            if self.form.text is not None:
                raise FormError(400, "Unusable form", "The form holds the pasted text twice.")
        elif self._filename is not None:
            self._kind = "ignored"  # a file under another name: read past it
            self._path = None
        else:
            self._kind = "field"
            self._path = None
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise FormError(400, "Unusable form", "The form holds too many fields.")
        if self._path is not None:
            self._sink = open(self._path, "xb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._kind in ("file", "text"):
            self.payload += n
            if self.payload > self.cap:
                raise too_large(self.cap)
            assert self._sink is not None
            self._sink.write(data[start:end])
            self._size += n
        elif self._kind == "field":
            if len(self._data) + n > FIELD_LIMIT:
                raise FormError(400, "Unusable form", f"The form field {self._name!r} is too long.")
            self._data += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._kind == "file":
            assert self._path is not None
            self.file_parts.append((self._filename or "", self._path, self._size))
        elif self._kind == "text":
            self.form.text, self.form.text_size = self._path, self._size
        elif self._kind == "field":
            self.form.fields.setdefault(self._name, []).append(self._data.decode(self.charset, "replace"))

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def finish(self) -> Received:
        chosen = [(name, path, size) for name, path, size in self.file_parts if size > 0 or name]
        non_empty = [p for p in chosen if p[2] > 0]
        if len(non_empty) > 1:
            raise FormError(400, "One file at a time",
                            "qabook converts one file at a time. Choose a single file (or a ZIP export).")
        for _, path, _ in self.file_parts:
            if not non_empty or path != non_empty[0][1]:
                path.unlink(missing_ok=True)
        if non_empty:
            name, path, size = non_empty[0]
            self.form.file_name, self.form.file, self.form.file_size = display_name(name) or "upload", path, size
        elif chosen:  # a file was chosen but it is empty
            self.form.file_name = display_name(chosen[0][0]) or "upload"
        return self.form


async def receive(body: AsyncIterator[bytes], content_type: str, folder: Path, cap: int) -> Received:
    """Read a multipart form from ``body`` into ``folder``; raises :class:`FormError`."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise FormError(415, "Unusable form", "Send the form as multipart/form-data (a file upload form).")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    reader = _Reader(folder, cap, charset)
    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": reader.on_part_begin,
        "on_part_data": reader.on_part_data,
        "on_part_end": reader.on_part_end,
        "on_header_field": reader.on_header_field,
        "on_header_value": reader.on_header_value,
        "on_header_end": reader.on_header_end,
        "on_headers_finished": reader.on_headers_finished,
    })
    total = 0
    try:
        async for chunk in body:
            total += len(chunk)
            if total > cap + FORM_OVERHEAD:
                raise too_large(cap)
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise FormError(400, "Unusable form", "The form data was incomplete or malformed. Try again.") from None
    finally:
        reader.close()
    return reader.finish()
