"""The document model: the one shape every reader returns and every writer takes.

A collection is ``Document -> Section -> Item -> Block -> Inline``. Every node is a frozen,
slotted dataclass, so a model can be shared, hashed and compared, and a pass that wants to change
something builds a new node (``dataclasses.replace``). The set of node types is closed: writers
``match`` over :data:`Block` and :data:`Inline` and end with ``assert_never``, so adding a type
makes every writer that forgets it fail type checking.

The JSON form (``to_json`` / ``from_json``) is versioned by the ``"qabook-model"`` key and is
documented in ``docs/model.md``. Each node is an object whose ``"type"`` names its class; tuples
are arrays. The encoding is derived from the dataclass fields, so it cannot drift from the types.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union

MODEL_VERSION = "1.1"

MAX_NESTING = 32
"""Deepest nesting a model holds: lists and quotes inside each other, and bold, italic and links
inside each other. Readers read what is nested deeper flat at this level, keeping every word (Word
itself shows nine list levels); :func:`from_json` refuses a deeper model. Writers walk the model
recursively, and this keeps them far from Python's recursion limit."""

# --------------------------------------------------------------------------- inlines


@dataclass(frozen=True, slots=True)
class Text:
    """Plain text, exactly as written (no Markdown escapes)."""

    text: str


@dataclass(frozen=True, slots=True)
class Strong:
    """Bold text."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Emphasis:
    """Italic text."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code, verbatim."""

    text: str


@dataclass(frozen=True, slots=True)
class Math:
    """An inline formula, kept as its TeX source (without the ``$`` delimiters)."""

    tex: str


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink; ``children`` is the visible text."""

    target: str
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class LineBreak:
    """A hard line break inside a paragraph."""


Inline = Union[Text, Strong, Emphasis, Code, Math, Link, LineBreak]

# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of inlines."""

    inlines: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class ListItem:
    """One entry of a list; it holds blocks, so lists nest by containing lists."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class BulletList:
    """An unordered list."""

    items: tuple[ListItem, ...]


@dataclass(frozen=True, slots=True)
class OrderedList:
    """A numbered list starting at ``start``."""

    items: tuple[ListItem, ...]
    start: int = 1


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A block of code, verbatim (indentation and blank lines kept, no trailing newline)."""

    text: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class MathBlock:
    """A display formula as its TeX source (without ``$$``)."""

    tex: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A block quote."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table: ``header`` is one row of cells, ``rows`` the body; a cell is a tuple of inlines."""

    header: tuple[tuple[Inline, ...], ...]
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal rule (thematic break)."""


Block = Union[Paragraph, BulletList, OrderedList, CodeBlock, MathBlock, Quote, Table, Rule]

# --------------------------------------------------------------------------- structure


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item came from in its source."""

    rendition: int = 1
    """1 for the first time the numbered set appears in the source, 2 for the second, ..."""
    first_line: int = 0
    """1-based line of the question in the source (0 when unknown)."""
    last_line: int = 0
    """1-based last line of the answer in the source (0 when unknown)."""
    collection: int = 0
    """Which numbered set the item belongs to when a source holds several (a conversation of a
    chat-app export); renditions are only matched within one collection."""


Status = Literal["answered", "unanswered"]


@dataclass(frozen=True, slots=True)
class Item:
    """One question and its answer."""

    number: int | None
    """The number the source gives the question, if any."""
    question: tuple[Inline, ...]
    answer: tuple[Block, ...]
    status: Status = "answered"
    origin: Origin = field(default_factory=Origin)


@dataclass(frozen=True, slots=True)
class Section:
    """A run of items under one heading (a batch, a topic, a conversation)."""

    title: str
    items: tuple[Item, ...]
    synthesized: bool = False
    """True when the source had no heading here and qabook named the section itself."""


@dataclass(frozen=True, slots=True)
class Document:
    """A whole collection."""

    title: str
    source: str
    """Name of the input (a file name, or ``-`` for standard input)."""
    sections: tuple[Section, ...]
    meta: tuple[tuple[str, str], ...] = ()
    """Free key/value facts about the source (format, date, ...), sorted by key."""

    def items(self) -> typing.Iterator[Item]:
        """Every item in document order."""
        for section in self.sections:
            yield from section.items

    def meta_value(self, key: str, default: str = "") -> str:
        """The value stored under ``key`` in :attr:`meta`."""
        for k, v in self.meta:
            if k == key:
                return v
        return default


# --------------------------------------------------------------------------- helpers


def joined_text(pieces: typing.Sequence[Inline | str]) -> list[Inline]:
    """Inlines from inlines and text: each run of neighbouring text (``str`` pieces and
    :class:`Text` nodes) as one :class:`Text`, empty text dropped. Readers collect text in pieces
    (parsers split it at every delimiter they consider); each run is joined once, so this is
    linear where adding pieces one by one would be quadratic."""
    if len(pieces) == 1:  # the most common case: one piece of text
        p = pieces[0]
        c = p.__class__
        if c is str:
            return [Text(p)] if p else []  # type: ignore[arg-type]
        if c is Text:
            return [p] if p.text else []  # type: ignore[list-item, union-attr]
        return [p]  # type: ignore[list-item]
    out: list[Inline] = []
    run: list[str] = []
    for p in pieces:
        c = p.__class__
        if c is str:
            if p:
                run.append(p)  # type: ignore[arg-type]
            continue
        if c is Text:
            if p.text:  # type: ignore[union-attr]
                run.append(p.text)  # type: ignore[union-attr]
            continue
        if run:
            out.append(Text(run[0] if len(run) == 1 else "".join(run)))
            run = []
        out.append(p)  # type: ignore[arg-type]
    if run:
        out.append(Text(run[0] if len(run) == 1 else "".join(run)))
    return out


def plain_text(inlines: typing.Iterable[Inline]) -> str:
    """The text of inlines as a reader sees it (formulas as their TeX)."""
    parts: list[str] = []
    for node in inlines:
        match node:
            case Text(text=t) | Code(text=t):
                parts.append(t)
            case Math(tex=t):
                parts.append(t)
            case Strong(children=c) | Emphasis(children=c) | Link(children=c):
                parts.append(plain_text(c))
            case LineBreak():
                parts.append("\n")
            case _:
                typing.assert_never(node)
    return "".join(parts)


# --------------------------------------------------------------------------- JSON

NODE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Text, Strong, Emphasis, Code, Math, Link, LineBreak,
        Paragraph, ListItem, BulletList, OrderedList, CodeBlock, MathBlock, Quote, Table, Rule,
        Origin, Item, Section, Document,
    )
}


def _reducer(cls: type) -> Any:
    """A ``__reduce__`` that rebuilds a node from its fields by calling the class.

    The one dataclasses makes for frozen slotted classes goes through Python-level state dicts;
    this is several times faster, which matters where a big export is spooled to a temporary
    file between reading and writing (see :mod:`qabook.readers._chat`).
    """
    names = tuple(f.name for f in dataclasses.fields(cls))

    def reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, tuple([getattr(self, n) for n in names])

    return reduce


for _cls in NODE_TYPES.values():
    _cls.__reduce__ = _reducer(_cls)  # type: ignore[method-assign]
del _cls


class ModelError(ValueError):
    """Raised when JSON does not describe a valid model."""


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


_JSON_DEPTH = 8 * MAX_NESTING
"""Deepest JSON a model of :data:`MAX_NESTING` levels needs (a list level is four JSON levels:
the list, its items, an item, its blocks; an inline level two), with room to spare."""


def _decode(value: Any, depth: int = 0) -> Any:
    if depth > _JSON_DEPTH:
        raise ModelError(f"nested more than {_JSON_DEPTH} levels deep")
    if isinstance(value, dict):
        name = value.get("type")
        if not isinstance(name, str) or name not in NODE_TYPES:
            raise ModelError(f"unknown node type {name!r}")
        cls = NODE_TYPES[name]
        hints = _hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in value:
                kwargs[f.name] = _coerce(_decode(value[f.name], depth + 1), hints[f.name], f.name, name)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ModelError(f"{name}: {exc}") from None
    if isinstance(value, list):
        return tuple(_decode(v, depth + 1) for v in value)
    return value


def _coerce(value: Any, hint: Any, fname: str, owner: str) -> Any:
    """Check a decoded value against the field's type so bad JSON fails here, not in a writer.

    Nodes inside the value were checked when they were decoded, so this looks one node deep: a
    tuple's elements are checked by their type (a block where an inline belongs is refused).
    """
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, tuple):
            raise ModelError(f"{owner}.{fname}: expected a list")
        if not _conforms(value, hint):
            if (owner, fname) in _DESCRIPTIONS:
                raise ModelError(f"{owner}.{fname}: expected {_DESCRIPTIONS[owner, fname]}")
            raise ModelError(f"{owner}.{fname}: holds {_kinds(value, hint)} where {_describe(hint)} belong")
        return value
    if origin is Literal and value not in typing.get_args(hint):
        raise ModelError(f"{owner}.{fname}: expected one of {', '.join(map(repr, typing.get_args(hint)))}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and not isinstance(value, hint):
        raise ModelError(f"{owner}.{fname}: expected a {hint.__name__}")
    if hint is str and not isinstance(value, str):
        raise ModelError(f"{owner}.{fname}: expected a string")
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ModelError(f"{owner}.{fname}: expected an integer")
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGES.get((owner, fname), (0, 999_999_999))
        if not low <= value <= high:
            raise ModelError(f"{owner}.{fname}: {value} is not between {low} and {high}")
    if origin in (Union, types.UnionType) and type(None) in typing.get_args(hint):
        if value is not None and int in typing.get_args(hint) and not isinstance(value, int):
            raise ModelError(f"{owner}.{fname}: expected an integer or null")
    return value


_INT_RANGES = {("Origin", "rendition"): (1, 1000)}
"""What a number in a model may be (others: 0 to 999,999,999, as many digits as a list number)."""

_DESCRIPTIONS = {
    ("Document", "meta"): "[key, value] pairs of strings",
    ("Table", "header"): "cells (lists of inlines)",
    ("Table", "rows"): "rows (lists of cells)",
}


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a decoded value has the type ``hint`` names (nodes by their class)."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(args) == len(value) and all(_conforms(v, a) for v, a in zip(value, args))
    if origin in (Union, types.UnionType):
        return any(_conforms(value, a) for a in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    inner = typing.get_args(hint)[0]
    if inner == Inline:
        return "inlines"
    if inner == Block:
        return "blocks"
    return f"{getattr(inner, '__name__', 'other')} nodes"


def _kinds(value: tuple[Any, ...], hint: Any) -> str:
    inner = typing.get_args(hint)[0]
    bad = next((v for v in value if not _conforms(v, inner)), None)
    if dataclasses.is_dataclass(bad):
        return f"a {type(bad).__name__}"
    return {str: "a string", tuple: "a list", type(None): "null", bool: "true or false"}.get(type(bad), "a number")


def to_json_obj(doc: Document) -> dict[str, Any]:
    """The JSON-ready form of a document, with the model version first."""
    body = _encode(doc)
    return {"qabook-model": MODEL_VERSION, **body}


def to_json(doc: Document) -> str:
    """Serialise a document as stable, pretty JSON (same model, same text)."""
    return json.dumps(to_json_obj(doc), ensure_ascii=False, indent=1) + "\n"


def from_json_obj(obj: Any) -> Document:
    """Rebuild a document from its JSON form; raises :class:`ModelError` when it is not one."""
    if not isinstance(obj, dict) or "qabook-model" not in obj:
        raise ModelError("not a qabook model (no 'qabook-model' key)")
    version = obj["qabook-model"]
    if not isinstance(version, str) or version.split(".")[0] != MODEL_VERSION.split(".")[0]:
        raise ModelError(f"unsupported model version {version!r} (this qabook reads {MODEL_VERSION})")
    body = {k: v for k, v in obj.items() if k != "qabook-model"}
    doc = _decode(body)
    if not isinstance(doc, Document):
        raise ModelError("top-level node is not a Document")
    return doc


def from_json(text: str) -> Document:
    """Parse JSON text into a document."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"invalid JSON: {exc}") from None
    except RecursionError:  # the standard parser recurses once per level
        raise ModelError(f"nested more than {_JSON_DEPTH} levels deep") from None
    return from_json_obj(obj)
