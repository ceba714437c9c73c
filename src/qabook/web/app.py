"""The local web page: drop a chat in, see what qabook found, download the documents.

Routes::

    GET  /                      the form: drop or choose a file, or paste text
    POST /convert               the form (multipart); 303 to the result page, or JSON {"url"} for
                                the page's script (Accept: application/json); errors as the form
                                page with the message, or JSON {"title", "message"}
    GET  /r/{id}                what was found: sections, renditions, repairs, review warnings, a
                                preview; options (rendition, title, repairs, sections) as query
    GET  /r/{id}/download       ?format=docx|md|html|apkg|csv|tsv|json|review, or format=zip with
                                output=… for several in one ZIP; same options as the result page
    POST /r/{id}/delete         remove the upload now
    GET  /static/…              the page's CSS, script and icon (package data), and the study
                                page's stylesheet (``writers/html_assets``) reused for the preview

Every response carries a strict Content-Security-Policy (no inline script or style, nothing from
elsewhere), ``nosniff`` and no-store caching; requests for another host name are refused (a web
page cannot reach this server through DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import logging
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, BinaryIO, Sequence
from urllib.parse import quote, urlencode

import anyio
import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qabook import __version__
from qabook.formats import writer_for
from qabook.model import Document
from qabook.pipeline import Options, Result, load
from qabook.readers.base import InputError
from qabook.web import forms
from qabook.web.forms import FormError, human_size
from qabook.web.jobs import Busy, Jobs, TooSlow
from qabook.web.store import ExpiredUpload, Store, UnknownUpload, Upload

log = logging.getLogger("qabook.web")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""For qabook's own pages."""
DOWNLOAD_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; sandbox"
"""For a downloaded HTML page opened in place: it may run its own inline search script, but in a
sandbox (an opaque origin, with no access to this server)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How the server behaves."""

    max_upload: int = 500 * 1024 * 1024
    """Bytes a file (or pasted text) may have."""
    timeout: float = 300.0
    """Seconds a conversion may take (and may wait for a free worker)."""
    upload_timeout: float = 3600.0
    """Seconds an upload may take to arrive."""
    keep: float = 3600.0
    """Seconds an upload is kept after it was last used."""
    workers: int = max(1, min(4, os.cpu_count() or 2))
    """Conversions that run at the same time."""
    preview_items: int = 10
    hosts: tuple[str, ...] = LOOPBACK_HOSTS
    """Host names requests may be addressed to; ``("*",)`` accepts any."""
    temp_parent: str | None = None
    """Where the private upload folder is made (default: the system's temporary folder)."""
    sweep_every: float = 60.0


@dataclass(frozen=True, slots=True)
class Output:
    key: str
    label: str
    suffix: str
    """Added to the download's name."""
    ext: str
    """The extension to show."""
    media_type: str
    writer: str
    """The extension :func:`qabook.formats.writer_for` picks the writer by ("" for the review)."""


OUTPUTS: dict[str, Output] = {o.key: o for o in (
    Output("docx", "Word document", ".docx", ".docx",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    Output("md", "Markdown", ".md", ".md", "text/markdown; charset=utf-8", ".md"),
    Output("html", "Web page to study from", ".html", ".html", "text/html; charset=utf-8", ".html"),
    Output("apkg", "Anki deck", ".apkg", ".apkg", "application/octet-stream", ".apkg"),
    Output("review", "Review: what to check", "-review.html", ".html", "text/html; charset=utf-8", ""),
    Output("csv", "CSV for Anki or Quizlet", ".csv", ".csv", "text/csv; charset=utf-8", ".csv"),
    Output("tsv", "Tab-separated for Anki or Quizlet", ".tsv", ".tsv",
           "text/tab-separated-values; charset=utf-8", ".tsv"),
    Output("json", "qabook JSON", ".json", ".json", "application/json", ".json"),
)}
MAIN_OUTPUTS = ("docx", "md", "html", "apkg", "review")

READER_NAMES = {
    "transcript": "a chat transcript",
    "markdown": "Markdown",
    "docx": "a Word document",
    "qabook-json": "qabook JSON",
    "chatgpt": "a ChatGPT data export",
    "claude": "a Claude data export",
    "gemini": "Gemini activity from Google Takeout",
}

SKIPPED_LABELS = {
    "speaker line": ("speaker line", "speaker lines", " (You said:, ChatGPT said: …)"),
    "chat between batches": ("paragraph", "paragraphs", " of chat between batches"),
    "before the Q&A": ("paragraph", "paragraphs", " before the Q&A"),
    "closing exchange": ("paragraph", "paragraphs", " of the closing exchange"),
}


def _skipped(kind: str, n: int) -> str:
    one, many, tail = SKIPPED_LABELS.get(kind, (kind, kind, ""))
    return f"{n} {one if n == 1 else many}{tail}"

_RENDITION_RE = re.compile(r"^(auto|first|last|[1-9][0-9]{0,2})$")
_TITLE_BAD_RE = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class Choice:
    """The options a page or a download asks for."""

    rendition: str = "auto"
    title: str = ""
    repairs: bool | None = None
    """None: qabook decides (repairs for copied transcripts); False: keep the text as read."""
    sections: tuple[int, ...] | None = None
    """1-based section numbers to include; None for all."""

    @property
    def key(self) -> tuple[str, str, bool | None]:
        """What a conversion depends on (sections are chosen afterwards)."""
        return (self.rendition, self.title, self.repairs)

    def query(self) -> str:
        """The options as a query string ("" for the defaults)."""
        pairs: list[tuple[str, str]] = []
        if self.rendition != "auto":
            pairs.append(("rendition", self.rendition))
        if self.title:
            pairs.append(("title", self.title))
        if self.repairs is False:
            pairs.append(("no_repair", "1"))
        if self.sections is not None:
            pairs.append(("sections", "chosen"))
            pairs += [("section", str(n)) for n in self.sections]
        return ("?" + urlencode(pairs)) if pairs else ""


def parse_choice(get: Any) -> Choice:
    """Options from a form or query: ``get(name) -> list[str]``. Raises :class:`FormError`."""

    def first(name: str) -> str:
        values = get(name)
        return values[0] if values else ""

    rendition = first("rendition").strip().lower() or "auto"
    if not _RENDITION_RE.match(rendition):
        raise FormError(400, "Unknown rendition",
                        "Rendition must be auto, first, last or the number of a rendition.")
    title = _TITLE_BAD_RE.sub(" ", unicodedata.normalize("NFC", first("title"))).strip()[:300]
    repairs = False if first("no_repair") in ("1", "on", "true", "yes") else None
    sections: tuple[int, ...] | None = None
    if first("sections") == "chosen":
        numbers = []
        for value in get("section"):
            if value.isdigit() and 0 < int(value) < 1_000_000:
                numbers.append(int(value))
        if not numbers:
            raise FormError(400, "No section chosen", "Choose at least one section to include.")
        sections = tuple(sorted(set(numbers)))
    return Choice(rendition, title, repairs, sections)


def select(doc: Document, sections: tuple[int, ...] | None) -> Document:
    """The document with only the chosen sections (all when ``sections`` is None)."""
    if sections is None:
        return doc
    chosen = tuple(doc.sections[n - 1] for n in sections if 0 < n <= len(doc.sections))
    if not chosen:
        raise FormError(400, "No section chosen", "Choose at least one section to include.")
    return Document(doc.title, doc.source, chosen, doc.meta)


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True, slots=True)
class Converted:
    result: Result
    review: Any
    """The :class:`qabook.audit.check.Review` of the whole input."""


def _convert(path: Path, name: str, choice: Choice) -> Converted:
    from qabook.audit.check import review

    options = Options(rendition=choice.rendition, title=choice.title or None, repairs=choice.repairs)
    result = load(None, name, options, path=str(path))
    return Converted(result, review(result))


def _subject(upload: Upload, start: bool = True) -> str:
    if upload.pasted:
        return "The pasted text" if start else "the pasted text"
    return f"“{upload.name}”"


_NOT_TEXT_RE = re.compile(r"^(is .*?, not text);")
READS = ("qabook reads chat transcripts (text or Markdown), ChatGPT, Claude and Gemini exports (JSON, HTML or "
         "the ZIP), Word documents (.docx) and qabook JSON.")
_NOTHING_FOUND = ("found no questions", "holds no questions", "holds no gemini prompts", "holds no conversations")


def input_problem(upload: Upload, exc: InputError) -> FormError:
    """An :class:`InputError` in plain words for the page."""
    message = str(exc).rstrip(".")
    subject = _subject(upload)
    lower = message.lower()
    if any(phrase in lower for phrase in _NOTHING_FOUND):
        return FormError(422, "No questions and answers found",
                         f"qabook found no questions and answers in {_subject(upload, False)}. It looks for "
                         "numbered questions with their answers (1. Q: … A: …), a chat with speaker lines "
                         "(You said: / ChatGPT said:), Markdown question headings, a Word document of Q&A, "
                         "or a ChatGPT, Claude or Gemini data export.")
    if message in ("is empty", "is empty or holds no text"):
        return FormError(422, "Nothing in it", f"{subject} is empty.")
    if "rendition" in lower and not message.startswith("is "):
        return FormError(400, "Unknown rendition", message[:1].upper() + message[1:] + ".")
    not_text = _NOT_TEXT_RE.match(message)
    if not_text:  # the reader's list of what qabook reads is shorter than what the page takes
        message = f"{not_text.group(1)}. {READS}"
        return FormError(415, "This cannot be read", f"{subject} {message}")
    return FormError(415, "This cannot be read", f"{subject} {message}.")


def _write(converted: Converted, doc: Document, keys: Sequence[str], stem: str, path: Path,
           date: dt.date | None) -> None:
    """Write one output (or several in a ZIP) to ``path``."""

    def render(key: str, out: BinaryIO) -> None:
        output = OUTPUTS[key]
        if key == "review":
            from qabook.audit.render import review_html

            out.write(review_html(converted.review).encode("utf-8"))
        else:
            writer_for(output.writer).write(doc, out, date)

    with open(path, "xb") as fh:
        if len(keys) == 1:
            render(keys[0], fh)
            return
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for key in keys:
                buffer = io.BytesIO()
                render(key, buffer)
                info = zipfile.ZipInfo(download_stem(stem) + OUTPUTS[key].suffix, (date or dt.date(1980, 1, 1))
                                       .timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buffer.getvalue())


# --------------------------------------------------------------------------- names


def download_stem(name: str) -> str:
    """A file name stem for downloads from the upload's shown name: no folders, no dots at the
    ends, no characters that file systems or headers trip over."""
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    stem = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|;]+', "-", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" .-_")[:100]
    return stem or "qabook"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the full name as ``filename*`` (RFC 6266)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""

    def ascii_only(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", text)).strip("-.")

    ascii_name = (ascii_only(stem) or "qabook") + ("." + ascii_only(ext) if ascii_only(ext) else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --------------------------------------------------------------------------- summaries for the page


def _numbers(numbers: Sequence[int | None], limit: int = 12, prefix: str = "") -> str:
    """``2, 5–7, 11`` (runs collapsed; ``Q2, Q5–7`` with ``prefix="Q"``), at most ``limit`` runs."""
    nums = sorted({n for n in numbers if n is not None})
    runs: list[tuple[int, int]] = []
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    parts = [f"{prefix}{a}" if a == b else f"{prefix}{a}–{b}" for a, b in runs[:limit]]
    more = f" and {len(runs) - limit} more" if len(runs) > limit else ""
    return ", ".join(parts) + more


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def review_notes(review: Any, warnings: Sequence[str] = ()) -> list[str]:
    """The review's findings as sentences, most important first (leaving out what ``warnings``,
    the conversion's own, already say)."""
    notes: list[str] = []
    said = " ".join(warnings)
    for c in review.coverage:
        label = f"Rendition {c.rendition}" if len(review.coverage) > 1 else "The numbering"
        if c.gaps:
            notes.append(f"{label}: {_plural(len(c.gaps), 'number')} missing ({_numbers(c.gaps)}).")
        if c.repeats:
            notes.append(f"{label}: {_plural(len(c.repeats), 'number')} used for different questions "
                         f"({_numbers(c.repeats)}).")
        if c.out_of_order:
            notes.append(f"{label}: {_plural(len(c.out_of_order), 'number')} out of order "
                         f"({_numbers(c.out_of_order)}).")
    for m in review.missing_headings:
        span = f"{m.first}–{m.last}" if m.first != m.last else f"{m.first}"
        if f"items {span}" in said:
            continue
        notes.append(f"Items {span} have no batch heading (rendition {m.rendition}, line {m.line}).")
    if review.duplicates:
        exact = sum(1 for g in review.duplicates if g.kind == "exact")
        near = len(review.duplicates) - exact
        kinds = ", ".join(x for x in (f"{exact} exact" if exact else "", f"{near} reworded" if near else "") if x)
        example = review.duplicates[0]
        notes.append(f"{_plural(len(review.duplicates), 'question')} asked more than once ({kinds}), "
                     f"for example {_numbers(example.numbers, 4, 'Q')}.")
    if review.unanswered:
        notes.append(f"{_plural(len(review.unanswered), 'question')} without an answer "
                     f"({_numbers([n for n, _ in review.unanswered], prefix='Q')}).")
    if review.differences:
        notes.append(f"{_plural(len(review.differences), 'item')} worded differently in another rendition; "
                     f"the earliest wording is kept ({_numbers([d.number for d in review.differences], prefix='Q')}). "
                     "The review shows each difference.")
    return notes


def _sentence(text: str) -> str:
    """A warning as a sentence: capital first letter, a full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?”\"" else text + "."


def _preview(doc: Document, limit: int) -> list[dict[str, Any]]:
    from qabook.writers.html import blocks, inlines

    out: list[dict[str, Any]] = []
    left = limit
    for section in doc.sections:
        if left <= 0:
            break
        items = []
        for item in section.items[:left]:
            items.append({
                "number": item.number,
                "question": Markup(inlines(item.question)),
                "answer": Markup(blocks(item.answer)) if item.answer else None,
            })
        left -= len(items)
        if items:
            out.append({"title": section.title, "entries": items})
    return out


# --------------------------------------------------------------------------- the application


@dataclass
class Service:
    settings: Settings
    store: Store
    jobs: Jobs
    env: jinja2.Environment
    started: float = field(default=0.0)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        base = {"version": __version__, "max_upload": human_size(self.settings.max_upload),
                "max_upload_bytes": self.settings.max_upload, "keep_minutes": round(self.settings.keep / 60),
                "error": None, "notice": None}
        base.update(context)
        return HTMLResponse(self.env.get_template(template).render(**base), status_code=status)

    def problem(self, request: Request, problem: FormError, template: str = "index.html",
                **context: Any) -> Response:
        if wants_json(request):
            return JSONResponse({"title": problem.title, "message": problem.message}, status_code=problem.status)
        return self.page(template, problem.status, error=problem, **context)

    async def convert(self, upload: Upload, choice: Choice) -> Converted:
        cached = self.store.result(upload, choice.key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        try:
            converted = await self.jobs.run(_convert, upload.input, upload.name, choice)
        except InputError as exc:
            raise input_problem(upload, exc) from None
        except Busy:
            raise FormError(503, "Busy", "qabook is busy with other conversions. Try again in a minute.") from None
        except TooSlow:
            raise FormError(503, "This took too long",
                            f"Reading {_subject(upload, False)} took longer than {self.jobs.timeout:g} seconds, so "
                            "qabook stopped waiting. Convert it on the command line (qabook convert), which has "
                            "no time limit, or start qabook serve with a longer --timeout.") from None
        except (FormError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("converting upload %s (%s) failed", upload.id, upload.name)
            raise FormError(500, "Something went wrong",
                            f"qabook failed while reading {_subject(upload, False)}. This is a fault in qabook, not in "
                            "your file; the details are printed where qabook serve runs.") from None
        self.store.keep_result(upload, choice.key, converted)
        return converted

    def upload_or_problem(self, request: Request) -> Upload:
        try:
            return self.store.get(request.path_params["id"])
        except ExpiredUpload:
            raise FormError(410, "This upload has expired",
                            f"Uploads are kept for {round(self.settings.keep / 60)} minutes after their last use "
                            "and then removed. Drop the file again.") from None
        except UnknownUpload:
            raise FormError(404, "Not found",
                            "There is no upload at this address. It may have been removed, or qabook was "
                            "restarted (uploads live only while qabook serve runs). Drop the file again.") from None


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def service_of(request: Request) -> Service:
    return request.app.state.qabook  # type: ignore[no-any-return]


async def index(request: Request) -> Response:
    svc = service_of(request)
    notice = "Your file and everything made from it were removed." if request.query_params.get("removed") else None
    return svc.page("index.html", notice=notice, form={})


async def _drain(request: Request, seconds: float) -> None:
    """Read and drop the rest of a refused request, so the browser sees the answer instead of a
    reset connection (bounded in time)."""
    with contextlib.suppress(Exception):
        with anyio.move_on_after(seconds):
            async for _ in request.stream():
                pass


async def convert(request: Request) -> Response:
    svc = service_of(request)
    settings = svc.settings
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_upload + forms.FORM_OVERHEAD:
        await _drain(request, 30)
        return svc.problem(request, forms.too_large(settings.max_upload), form={})
    upload = svc.store.new()
    form: forms.Received | None = None
    try:
        with anyio.fail_after(settings.upload_timeout):
            form = await forms.receive(request.stream(), request.headers.get("content-type", ""), upload.folder,
                                       settings.max_upload)
        choice = parse_choice(lambda name: form.fields.get(name, []) if form else [])
        if form.file is not None:
            os.replace(form.file, upload.input)
            upload.name, upload.size = form.file_name or "upload", form.file_size
        elif form.text is not None and form.text_size > 0:
            os.replace(form.text, upload.input)
            upload.name, upload.size, upload.pasted = "pasted text", form.text_size, True
        elif form.file_name:
            raise FormError(422, "Nothing in it", f"“{form.file_name}” is empty.")
        else:
            raise FormError(400, "Nothing to convert",
                            "Choose a file, drop one on the box, or paste a chat into the text box.")
        if form.text is not None and upload.pasted is False:
            form.text.unlink(missing_ok=True)
        svc.store.add(upload)
        await svc.convert(upload, choice)
    except FormError as problem:
        svc.store.discard(upload)
        if problem.status == 413:
            await _drain(request, 30)
        return svc.problem(request, problem, form=_form_echo(form))
    except TimeoutError:
        svc.store.discard(upload)
        return svc.problem(request, FormError(408, "The upload took too long",
                                              f"The upload did not arrive within {settings.upload_timeout:g} "
                                              "seconds. Try again."), form={})
    except ClientDisconnect:
        svc.store.discard(upload)
        return Response(status_code=400)
    except BaseException:
        svc.store.discard(upload)
        raise
    url = f"/r/{upload.id}{choice.query()}"
    if wants_json(request):
        return JSONResponse({"url": url, "id": upload.id})
    return RedirectResponse(url, status_code=303)


def _form_echo(form: forms.Received | None) -> dict[str, str]:
    """Options to show again on the form after an error (never the file or the text)."""
    if form is None:
        return {}
    return {"rendition": form.value("rendition"), "no_repair": form.value("no_repair")}


def _get_choice(request: Request) -> Choice:
    return parse_choice(request.query_params.getlist)


def _rendition_choices(result: Result) -> list[tuple[str, str]]:
    count = result.report.renditions.count
    options = [("auto", "Automatic (recommended)")]
    if count > 1:
        options += [("first", "The first for every item"), ("last", "The last for every item")]
        options += [(str(n), f"Rendition {n}") for n in range(1, count + 1)]
    return options


async def result_page(request: Request) -> Response:
    svc = service_of(request)
    try:
        upload = svc.upload_or_problem(request)
    except FormError as problem:
        return svc.page("index.html", problem.status, error=problem, form={})
    notice: FormError | None = None
    try:
        choice = _get_choice(request)
    except FormError as problem:
        notice, choice = problem, _lenient_choice(request)
    try:
        converted = await svc.convert(upload, choice)
    except FormError as problem:
        if problem.status in (400,) and choice != Choice():
            notice, choice = problem, Choice()
            try:
                converted = await svc.convert(upload, choice)
            except FormError as again:
                return svc.page("index.html", again.status, error=again, form={})
        else:
            return svc.page("index.html", problem.status, error=problem, form={})
    return _result_response(svc, upload, choice, converted, notice)


def _lenient_choice(request: Request) -> Choice:
    """The options of a query with an unusable part, the unusable part left at its default."""
    params = request.query_params
    rendition = params.get("rendition", "auto")
    return Choice(rendition if _RENDITION_RE.match(rendition) else "auto",
                  _TITLE_BAD_RE.sub(" ", params.get("title", "")).strip()[:300],
                  False if params.get("no_repair") in ("1", "on", "true", "yes") else None, None)


def _result_response(svc: Service, upload: Upload, choice: Choice, converted: Converted,
                     notice: FormError | None, status: int | None = None) -> Response:
    result = converted.result
    report = result.report
    doc = result.document
    chosen = set(choice.sections) if choice.sections is not None else None
    sections = [{"n": n, "title": title, "count": count, "checked": chosen is None or n in chosen}
                for n, (title, count) in enumerate(report.sections, start=1)]
    try:
        shown = select(doc, choice.sections)
    except FormError as problem:
        notice, shown = problem, doc
        for s in sections:
            s["checked"] = True
    shown_items = sum(len(s.items) for s in shown.sections)
    r = report.renditions
    renditions = None
    if r.count > 1:
        renditions = {
            "count": r.count,
            "per": " + ".join(str(n) for n in r.items_per_rendition),
            "chosen": ", ".join(f"{n} from rendition {i + 1}" for i, n in enumerate(r.chosen_per_rendition) if n),
            "differences": _numbers([d.number for d in r.differences], prefix="Q") if r.differences else "",
            "difference_count": len(r.differences),
        }
    skipped = [_skipped(kind, n) for kind, n in report.skipped]
    base = f"/r/{upload.id}"
    context = {
        "upload": upload, "size": human_size(upload.size), "choice": choice, "base": base,
        "query": choice.query(), "report": report, "reader": READER_NAMES.get(report.reader, report.reader),
        "sections": sections, "shown_items": shown_items,
        "shown_sections": len(shown.sections), "renditions": renditions,
        "rendition_choices": _rendition_choices(result), "repairs": [r for r in report.repairs if r.count],
        "repairs_ran": bool(report.repairs), "skipped": skipped,
        "warnings": [_sentence(w) for w in dict.fromkeys(report.warnings)],
        "notes": review_notes(converted.review, report.warnings),
        "needs_review": converted.review.needs_review,
        "preview": _preview(shown, svc.settings.preview_items),
        "preview_count": min(svc.settings.preview_items, shown_items), "title": doc.title,
        "outputs": [OUTPUTS[k] for k in MAIN_OUTPUTS], "all_outputs": list(OUTPUTS.values()),
        "error": notice,
    }
    return svc.page("result.html", status or (notice.status if notice else 200), **context)


async def download(request: Request) -> Response:
    svc = service_of(request)
    try:
        upload = svc.upload_or_problem(request)
    except FormError as missing:
        return svc.page("index.html", missing.status, error=missing, form={})
    params = request.query_params
    key = params.get("format", "docx")
    keys: list[str] = []
    problem: FormError | None = None
    if key == "zip":
        keys = [k for k in dict.fromkeys(params.getlist("output")) if k in OUTPUTS]
        if not keys:
            problem = FormError(400, "No format chosen", "Tick at least one format for the ZIP.")
    elif key in OUTPUTS:
        keys = [key]
    else:
        problem = FormError(400, "Unknown format", f"There is no download format {key[:20]!r}.")
    try:
        choice = _get_choice(request)
    except FormError as bad:
        problem, choice = bad, _lenient_choice(request)
    try:
        converted = await svc.convert(upload, choice)
    except FormError as failed:
        return svc.page("index.html", failed.status, error=failed, form={})
    if problem is not None:
        return _result_response(svc, upload, choice, converted, problem)
    try:
        doc = select(converted.result.document, choice.sections)
    except FormError as bad:
        return _result_response(svc, upload, choice, converted, bad)
    stem = download_stem(upload.name if not upload.pasted else converted.result.document.title)
    suffix = ".zip" if len(keys) > 1 else OUTPUTS[keys[0]].suffix
    media_type = "application/zip" if len(keys) > 1 else OUTPUTS[keys[0]].media_type
    path = svc.store.scratch(upload, suffix)
    try:
        await svc.jobs.run(_write, converted, doc, keys, stem, path, upload_date(upload))
    except (Busy, TooSlow) as exc:
        path.unlink(missing_ok=True)
        message = ("qabook is busy with other conversions. Try again in a minute." if isinstance(exc, Busy)
                   else f"Writing took longer than {svc.settings.timeout:g} seconds.")
        return _result_response(svc, upload, choice, converted, FormError(503, "Try again", message))
    except Exception:
        path.unlink(missing_ok=True)
        log.exception("writing %s for upload %s failed", keys, upload.id)
        return _result_response(svc, upload, choice, converted, FormError(
            500, "Something went wrong", "qabook failed while writing the file. This is a fault in qabook; the "
            "details are printed where qabook serve runs."))
    headers = {"Content-Disposition": content_disposition(stem + suffix)}
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return FileResponse(path, media_type=media_type, headers=headers,
                        background=BackgroundTask(_unlink, path))


def upload_date(upload: Upload) -> dt.date | None:
    """The date on a document's title page: ``SOURCE_DATE_EPOCH`` when set, else the upload's date."""
    from qabook.pipeline import document_date

    try:
        return document_date(str(upload.input))
    except InputError:
        return None


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


async def delete(request: Request) -> Response:
    svc = service_of(request)
    ident = request.path_params["id"]
    removed = svc.store.remove(ident)
    if wants_json(request):
        return JSONResponse({"removed": removed})
    return RedirectResponse("/?removed=1", status_code=303)


# --------------------------------------------------------------------------- middleware


class Guard:
    """Security headers on every response; requests for a host name that is not ours refused."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.any_host = "*" in hosts
        self.hosts = {h.lower() for h in hosts}

    def _host_ok(self, scope: Scope) -> bool:
        if self.any_host:
            return True
        host = ""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1").strip().lower()
                break
        if host.startswith("["):
            host = host[: host.find("]") + 1]
        else:
            host = host.split(":", 1)[0]
        return host in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
                if not static:
                    headers["Cache-Control"] = "no-store"
                else:
                    headers.setdefault("Cache-Control", "no-cache")
            await send(message)

        if not self._host_ok(scope):
            response = PlainTextResponse("This qabook only answers requests addressed to this computer "
                                         "(127.0.0.1 or localhost).", status_code=421)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- errors


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    svc = service_of(request)
    if exc.status_code == 404:
        problem = FormError(404, "Not found", "There is nothing at this address.")
    elif exc.status_code == 405:
        problem = FormError(405, "Not here", "This address does not take that kind of request.")
    else:
        problem = FormError(exc.status_code, "Cannot do that", str(exc.detail))
    if request.url.path.startswith("/static/"):
        return PlainTextResponse(problem.message, status_code=problem.status)
    return svc.problem(request, problem, form={})


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("request %s %s failed", request.method, request.url.path, exc_info=exc)
    return HTMLResponse("<!DOCTYPE html><title>Something went wrong</title><h1>Something went wrong</h1>"
                        "<p>qabook failed while answering. The details are printed where qabook serve runs.</p>",
                        status_code=500)


# --------------------------------------------------------------------------- building the app


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("qabook.web", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["size"] = human_size
    return env


def _static() -> StaticFiles:
    """The page's own assets, then the study page's (its stylesheet styles the preview)."""
    return StaticFiles(packages=[("qabook.web", "static"), ("qabook.writers", "html_assets")])


def create_app(settings: Settings = Settings(), *, store: Store | None = None) -> Starlette:
    """The application. The uploads folder is made now and removed when the app shuts down."""
    svc = Service(settings, store if store is not None else Store(settings.keep, settings.temp_parent),
                  Jobs(settings.workers, settings.timeout), _environment())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def sweeper() -> None:
            while True:
                await asyncio.sleep(settings.sweep_every)
                svc.store.sweep()

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            svc.store.close()

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET", "HEAD"]),
            Route("/convert", convert, methods=["POST"]),
            Route("/r/{id}", result_page, methods=["GET", "HEAD"]),
            Route("/r/{id}/download", download, methods=["GET"]),
            Route("/r/{id}/delete", delete, methods=["POST"]),
            Mount("/static", app=_static(), name="static"),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.qabook = svc
    app.add_middleware(Guard, hosts=settings.hosts)
    return app
