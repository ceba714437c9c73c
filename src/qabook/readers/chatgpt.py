"""ChatGPT's data export: ``conversations.json``, ``chat.html`` or the ZIP that holds them.

Each conversation stores its messages as a tree (``mapping``: node id → message, ``parent``,
``children``); regenerated answers and edited prompts are branches. The conversation as the user
last saw it is the path from ``current_node`` up the ``parent`` links (when ``current_node`` is
missing, the newest leaf, with the tree rebuilt from ``parent`` since ``children`` may be empty).
Messages on other branches are reported as skipped, never read into items.

On that path the user's messages are the prompts and the assistant's text to the user (recipient
``all``, final channel) is the reply. Reasoning (``thoughts``, ``reasoning_recap``), tool traffic
(``code`` sent to a tool, ``execution_output``, ``tether_quote``, ``tether_browsing_display``,
``system_error``, anything addressed to or written by a tool) and system or hidden context
messages are not answers: they are counted as skipped. Content with ``parts`` but no
``content_type`` (older samples) is text.

``chat.html`` holds the same list as a script (``var jsonData = [...];``); it is read as a stream
from that point. Big files are read one conversation at a time (see :mod:`qabook.readers._chat`).
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO, Iterator

from qabook.readers import _chat
from qabook.readers._chat import Conversation, Exchange, Stream, skipped
from qabook.readers.base import InputError, Reading, Streamed
from qabook.source import Source

NAME = "chatgpt"

REASONING = frozenset({"thoughts", "reasoning_recap"})
TOOL = frozenset({"code", "execution_output", "tether_quote", "tether_browsing_display", "system_error",
                  "tether_browsing_code", "computer_output", "super_widget"})
CONTEXT = frozenset({"user_editable_context", "model_editable_context"})
TEXT = frozenset({"text", "multimodal_text"})

_MEMBER_RE = re.compile(r"^conversations(?:-\d+)?\.json$", re.IGNORECASE)
_HTML_START_RE = re.compile(rb"jsonData\s*=\s*")


# --------------------------------------------------------------------------- sniffing


def _json_score(head: str) -> int:
    h = head.lstrip("\ufeff \t\r\n")
    if not h.startswith(("[", "{")):
        return 0
    if '"mapping"' in h and ('"parent"' in h or '"children"' in h or '"current_node"' in h):
        return 90
    return 0


def _html_score(head: str) -> int:
    return 90 if "<" in head and _HTML_START_RE.search(head.encode("utf-8", "ignore")) else 0


def _zip_members(names: list[str]) -> tuple[list[str], str | None]:
    """The conversations JSON members in order, and chat.html (None when absent)."""
    json_members = sorted((n for n in names if _MEMBER_RE.match(_chat.basename(n))),
                          key=lambda n: (n.count("/"), n))
    html = next((n for n in sorted(names, key=lambda n: n.count("/")) if _chat.basename(n).lower() == "chat.html"),
                None)
    return json_members, html


def sniff(source: Source) -> int:
    """How sure we are that the input is a ChatGPT export."""
    if _chat.is_zip(source):
        names = _chat.zip_names(source)
        if names is None:
            return 5  # a damaged archive: reading it says so (a DOCX reader would not want it either)
        json_members, html = _zip_members(names)
        if json_members:
            head = _chat.read_zip_member_head(source, json_members[0], 8192).decode("utf-8", "ignore")
            if '"chat_messages"' in head:  # Claude's export has a conversations.json too
                return 0
            return 80
        return 80 if html else 0
    head = source.head_text()
    return max(_json_score(head), _html_score(head[:65536]))


# --------------------------------------------------------------------------- reading


def read(source: Source, title: str | None) -> Reading:
    """Read the export (streamed) into a document with one section per conversation."""
    return _chat.collect(stream(source, title))


def stream(source: Source, title: str | None) -> Streamed:
    """Read the export as a stream of sections, one per conversation (see :func:`_chat.streamed_from`)."""
    container = "json"
    if _chat.is_zip(source):
        container = "zip"
        records = _zip_records(source)
    else:
        head = source.head_text()
        if not _json_score(head) and _html_score(head):
            container = "html"
            records = _html_records(source)
        else:
            records = _json_records(source)
    return _chat.streamed_from(_conversations(records), source.name, title, NAME, "ChatGPT conversations",
                              (("container", container),))


def _json_records(source: Source) -> Iterator[Any]:
    with source.open() as fh:
        yield from _chat.iter_records(fh)


def _html_records(source: Source) -> Iterator[Any]:
    with source.open() as fh:
        yield from _chat.iter_records(script_json(fh))


def _zip_records(source: Source) -> Iterator[Any]:
    zf = _chat.open_zip(source)
    with zf, _chat.ZipErrors():
        json_members, html = _zip_members(zf.namelist())
        if not json_members and html is None:
            raise InputError("is a ZIP archive without conversations.json or chat.html")
        if json_members:
            for member in json_members:
                with _chat.open_member(zf, member) as fh:
                    yield from _chat.iter_records(fh)
        else:
            assert html is not None
            with _chat.open_member(zf, html) as fh:
                yield from _chat.iter_records(script_json(fh))


class _ScriptJSON(Stream):
    """The JSON of ``var jsonData = …;`` inside a page, as a stream that ends with the statement."""

    _END_RE = re.compile(rb";[ \t\r]*(?:\n|</script)")
    _HOLD = 16

    def __init__(self, start: bytes, rest: BinaryIO) -> None:
        self._buf = start
        self._rest = rest
        self._eof = False
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 20
        while not self._done:
            m = self._END_RE.search(self._buf)
            if m:
                self._buf = self._buf[: m.start()]
                self._done = True
                break
            if self._eof:
                self._done = True
                break
            if len(self._buf) > self._HOLD and len(self._buf) >= n:
                break
            chunk = self._rest.read(max(n, 1 << 16))
            if not chunk:
                self._eof = True
            self._buf += chunk
        limit = len(self._buf) if self._done else max(0, len(self._buf) - self._HOLD)
        take = min(n, limit)
        out, self._buf = self._buf[:take], self._buf[take:]
        return out


def script_json(stream: BinaryIO) -> BinaryIO:
    """The stream positioned at the JSON after ``jsonData =`` in a ChatGPT ``chat.html``."""
    buf = b""
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            raise InputError("is an HTML page without ChatGPT's conversation data (no 'jsonData')")
        buf += chunk
        m = _HTML_START_RE.search(buf)
        if m and m.end() < len(buf):
            return _ScriptJSON(buf[m.end():], stream)  # type: ignore[return-value]
        buf = buf[-64:]


# --------------------------------------------------------------------------- conversations


def _conversations(records: Iterator[Any]) -> Iterator[Conversation]:
    first = True
    others = 0
    for rec in records:
        if not isinstance(rec, dict) or not isinstance(rec.get("mapping"), dict):
            if first:
                raise InputError("is JSON but not a ChatGPT export (a conversation has no 'mapping')")
            others += 1
            continue
        first = False
        yield conversation(rec)
    if others:
        yield Conversation("Not conversations", None, warnings=[f"{others} record(s) without a 'mapping' ignored"])


def conversation(rec: dict[str, Any]) -> Conversation:
    """One export conversation: the current path's prompts and replies."""
    mapping: dict[str, Any] = rec["mapping"]
    created = _chat.utc_from_timestamp(rec.get("create_time"))
    conv = Conversation(_chat.section_title(str(rec.get("title") or ""), created), created)
    path = current_path(mapping, rec.get("current_node"))
    on_path = set(path)
    current: Exchange | None = None
    for node_id in path:
        msg = _message(mapping.get(node_id))
        if msg is None:
            continue
        role, ctype, text = _role(msg), _content_type(msg), _text(msg)
        recipient = msg.get("recipient") or "all"
        raw_meta = msg.get("metadata")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        channel = msg.get("channel")
        if role == "system" or ctype in CONTEXT or meta.get("is_visually_hidden_from_conversation") is True:
            if text.strip() or ctype not in TEXT:
                conv.skipped.append(skipped("system message", ctype or role))
            continue
        if role == "user":
            if ctype in TEXT:
                if text.strip():
                    current = Exchange(text)
                    conv.exchanges.append(current)
                # an empty prompt ("continue generating") keeps the reply with the last prompt
            else:
                conv.skipped.append(skipped("other message", ctype))
            continue
        if role == "assistant":
            if ctype in REASONING or channel not in (None, "final"):
                conv.skipped.append(skipped("reasoning step", ctype))
            elif recipient != "all" or ctype in TOOL:
                conv.skipped.append(skipped("tool message", ctype))
            elif ctype in TEXT:
                if text.strip():
                    if current is None:
                        conv.stray_replies += 1
                    else:
                        current.reply.append(text)
            else:
                conv.skipped.append(skipped("other message", ctype))
            continue
        if role == "tool":
            conv.skipped.append(skipped("tool message", ctype))
            continue
        conv.skipped.append(skipped("other message", str(role)))
    for node_id, node in mapping.items():
        if node_id in on_path:
            continue
        msg = _message(node)
        if msg is not None and _role(msg) in ("user", "assistant") and _text(msg).strip():
            conv.skipped.append(skipped("off-branch message", _role(msg)))
    return conv


def current_path(mapping: dict[str, Any], current: Any) -> list[str]:
    """Node ids from the root to ``current`` (or to the newest leaf when it is missing)."""
    if not isinstance(current, str) or current not in mapping:
        current = _newest_leaf(mapping)
    path: list[str] = []
    seen: set[str] = set()
    node: Any = current
    while isinstance(node, str) and node in mapping and node not in seen:
        seen.add(node)
        path.append(node)
        entry = mapping[node]
        node = entry.get("parent") if isinstance(entry, dict) else None
    path.reverse()
    return path


def _newest_leaf(mapping: dict[str, Any]) -> str | None:
    parents = {e.get("parent") for e in mapping.values() if isinstance(e, dict) and isinstance(e.get("parent"), str)}
    best: tuple[float, int] | None = None
    best_id: str | None = None
    for i, (node_id, entry) in enumerate(mapping.items()):
        if node_id in parents:
            continue
        msg = _message(entry)
        when = msg.get("create_time") if msg is not None else None
        key = (float(when) if isinstance(when, (int, float)) else float("-inf"), i)
        if best is None or key > best:
            best, best_id = key, node_id
    return best_id


def _message(entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        return None
    msg = entry.get("message")
    return msg if isinstance(msg, dict) else None


def _role(msg: dict[str, Any]) -> str:
    author = msg.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    return role if isinstance(role, str) else ""


def _content_type(msg: dict[str, Any]) -> str:
    content = msg.get("content")
    if not isinstance(content, dict):
        return ""
    ctype = content.get("content_type")
    if isinstance(ctype, str) and ctype:
        return ctype
    return "text" if "parts" in content else ""


def _text(msg: dict[str, Any]) -> str:
    """The message's text parts (voice transcriptions included; images as "[image]" alone)."""
    content = msg.get("content")
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    out: list[str] = []
    images = 0
    for p in parts:
        if isinstance(p, str):
            if p.strip():
                out.append(p)
        elif isinstance(p, dict):
            if p.get("content_type") == "audio_transcription" and isinstance(p.get("text"), str):
                out.append(p["text"])
            elif "image" in str(p.get("content_type", "")):
                images += 1
    if not out and images:
        return "[image]"
    return "\n\n".join(out)
