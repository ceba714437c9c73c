"""Claude's data export: ``conversations.json`` (alone or in the export's ZIP).

The file is a list of conversations (``name``, ``created_at``, ``chat_messages``); each message has
a ``sender`` (``human`` or ``assistant``) and ``content`` blocks: ``text`` is what was said,
``thinking`` is reasoning and ``tool_use`` / ``tool_result`` are tool traffic, which are counted
as skipped. Exports from before content blocks have only a message's ``text``, which is read
instead (thinking, where there was any, cannot be told from the answer there, so it stays in).
When messages name their parents and the conversation its current leaf, only that branch is read.
"""

from __future__ import annotations

from typing import Any, Iterator

from qabook.readers import _chat
from qabook.readers._chat import Conversation, Exchange, skipped
from qabook.readers.base import InputError, Reading, Streamed
from qabook.source import Source

NAME = "claude"


def _json_score(head: str) -> int:
    h = head.lstrip("\ufeff \t\r\n")
    return 90 if h.startswith(("[", "{")) and '"chat_messages"' in h else 0


def _member(names: list[str]) -> str | None:
    found = [n for n in names if _chat.basename(n).lower() == "conversations.json"]
    return min(found, key=lambda n: (n.count("/"), n)) if found else None


def sniff(source: Source) -> int:
    """How sure we are that the input is Claude's export."""
    if _chat.is_zip(source):
        member = _member(_chat.zip_names(source) or [])
        if member is None:
            return 0
        head = _chat.read_zip_member_head(source, member, 8192).decode("utf-8", "ignore")
        return 90 if _json_score(head) else 0
    return _json_score(source.head_text())


def read(source: Source, title: str | None) -> Reading:
    """Read the export (streamed) into a document with one section per conversation."""
    return _chat.collect(stream(source, title))


def stream(source: Source, title: str | None) -> Streamed:
    """Read the export as a stream of sections, one per conversation (see :func:`_chat.streamed_from`)."""
    state = {"text_field": 0}
    container = "zip" if _chat.is_zip(source) else "json"
    records = _zip_records(source) if container == "zip" else _json_records(source)
    streamed = _chat.streamed_from(_conversations(records, state), source.name, title, NAME,
                                   "Claude conversations", (("container", container),))
    if state["text_field"]:
        streamed.warnings.append(
            f"{state['text_field']} assistant message(s) had no content blocks and were read from their "
            "'text' field, where thinking cannot be told from the answer")
    return streamed


def _json_records(source: Source) -> Iterator[Any]:
    with source.open() as fh:
        yield from _chat.iter_records(fh)


def _zip_records(source: Source) -> Iterator[Any]:
    zf = _chat.open_zip(source)
    with zf, _chat.ZipErrors():
        member = _member(zf.namelist())
        if member is None:
            raise InputError("is a ZIP archive without conversations.json")
        with _chat.open_member(zf, member) as fh:
            yield from _chat.iter_records(fh)


def _conversations(records: Iterator[Any], state: dict[str, int]) -> Iterator[Conversation]:
    first = True
    for rec in records:
        if not isinstance(rec, dict) or not isinstance(rec.get("chat_messages"), list):
            if first:
                raise InputError("is JSON but not Claude's export (a conversation has no 'chat_messages')")
            continue
        first = False
        yield conversation(rec, state)


def _branch(rec: dict[str, Any]) -> list[Any]:
    """The messages of the current branch when the export records one, else all in order."""
    messages: list[Any] = rec["chat_messages"]
    leaf = rec.get("current_leaf_message_uuid")
    by_id = {m["uuid"]: m for m in messages if isinstance(m, dict) and isinstance(m.get("uuid"), str) and m["uuid"]}
    if not isinstance(leaf, str) or leaf not in by_id:
        return messages
    path: list[Any] = []
    seen: set[str] = set()
    node: Any = leaf
    while isinstance(node, str) and node in by_id and node not in seen:
        seen.add(node)
        path.append(by_id[node])
        node = by_id[node].get("parent_message_uuid")
    path.reverse()
    return path


def conversation(rec: dict[str, Any], state: dict[str, int] | None = None) -> Conversation:
    """One export conversation: prompts and replies."""
    created = _chat.utc_from_iso(rec.get("created_at"))
    conv = Conversation(_chat.section_title(str(rec.get("name") or ""), created), created)
    messages = _branch(rec)
    if len(messages) < len(rec["chat_messages"]):
        conv.skipped.extend([skipped("off-branch message", "message")] * (len(rec["chat_messages"]) - len(messages)))
    current: Exchange | None = None
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        sender = msg.get("sender")
        texts: list[str] = []
        content = msg.get("content")
        if isinstance(content, list) and content:
            for block in content:
                if not isinstance(block, dict):
                    continue
                kind = block.get("type")
                if kind == "text":
                    if isinstance(block.get("text"), str) and block["text"].strip():
                        texts.append(block["text"])
                elif kind in ("thinking", "redacted_thinking"):
                    conv.skipped.append(skipped("reasoning step", str(kind)))
                elif kind in ("tool_use", "tool_result", "server_tool_use", "web_search_tool_result"):
                    conv.skipped.append(skipped("tool message", str(kind)))
                else:
                    conv.skipped.append(skipped("other message", str(kind)))
        elif isinstance(msg.get("text"), str):
            if msg["text"].strip():
                texts.append(msg["text"])
                if sender == "assistant" and state is not None:
                    state["text_field"] += 1
        attachments = msg.get("attachments")
        for att in attachments if isinstance(attachments, list) else ():
            if isinstance(att, dict):
                conv.skipped.append(skipped("attachment", "attachment"))
        text = "\n\n".join(texts)
        if sender == "human":
            if text.strip():
                current = Exchange(text)
                conv.exchanges.append(current)
        elif sender == "assistant":
            if text.strip():
                if current is None:
                    conv.stray_replies += 1
                else:
                    current.reply.append(text)
        else:
            conv.skipped.append(skipped("other message", str(sender)))
    return conv
