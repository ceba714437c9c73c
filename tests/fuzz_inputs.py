"""Hostile and broken inputs for qabook's readers, made from real files: the shared corpus, or the
test fixtures when the corpus is absent.

One generator serves two drivers: the hypothesis tests (``tests/test_fuzz_readers.py``, a few
hundred inputs with fixed seeds on every test run) and the long local run (``bench/fuzz/run.py``,
a hundred thousand and more). An input is made from a *seed* file and a list of *operations*
(plain tuples of numbers), so hypothesis can draw and shrink the operations, and the long run can
draw them from :class:`random.Random`; a saved crasher is its bytes.

Seeds are cut to a window of the file (whole lines for text; a few records for a JSON export) so
an input stays small and runs in milliseconds. Mutations work at the level the reader sees:

* bytes and tokens for text (encodings, BOMs, control characters, Markdown, TeX and chat syntax);
* the JSON tree for exports (types swapped, keys dropped, strings made hostile, values nested);
* the package for ZIP exports and DOCX files (member names that climb out, declared sizes that lie,
  XML with a DTD and entities, damaged bytes).

:func:`run_one` drives one input through :func:`qabook.pipeline.load` and, when it loads, through
every writer, then converts it from a file as ``qabook convert`` does (the streaming path), which
must agree: refuse what load refused (leaving no file behind), else write the same DOCX bytes. It
returns the exception that is not qabook's own ``InputError`` (or a broken promise), if any.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import random
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"

Op = tuple[int, int, int]
"""(kind, position, argument): what to do, where (a fraction of the length, in 1/65536), with what."""

# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    name: str
    """File name the input is given (readers sniff by content, messages name it)."""
    kind: str
    """``text``, ``json``, ``html``, ``zip`` or ``docx``: which mutations make sense."""
    data: bytes
    records: tuple[Any, ...] = ()
    """For a JSON export: its records (a window of them is mutated)."""
    member: str = ""
    """For a ZIP export: the member that holds the export."""


def _corpus_dir() -> Path | None:
    from tests.conftest import shared_dir

    path = shared_dir() / "corpus"
    return path if path.is_dir() else None


@functools.cache
def seeds(use_corpus: bool = True) -> tuple[Seed, ...]:
    """Every seed: corpus files (when present), fixtures, and DOCX/ZIP packages made from them."""
    out: list[Seed] = []
    corpus = _corpus_dir() if use_corpus else None
    files: list[Path] = []
    if corpus is not None:
        files += sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "README.md")
    files += sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".txt", ".md", ".json", ".html"))
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".json":
            obj = json.loads(data)
            records = tuple(obj) if isinstance(obj, list) else (obj,)
            out.append(Seed(p.name, "json", data, records))
        elif p.suffix == ".html":
            out.append(Seed(p.name, "html", data))
        else:
            out.append(Seed(p.name, "text", data))
    for p in sorted(FIXTURES.rglob("*.zip")):
        out.append(Seed(p.name, "zip", p.read_bytes()))
    out.extend(_docx_seeds([s for s in out if s.kind == "text"][:4]))
    return tuple(out)


def _docx_seeds(text_seeds: Sequence[Seed]) -> list[Seed]:
    """qabook's own DOCX of a few text seeds, and the Word layouts of the DOCX fixtures."""
    from qabook.pipeline import load
    from qabook.readers.base import InputError
    from qabook.writers import docx

    out: list[Seed] = []
    for s in text_seeds:
        try:
            doc = load(_window_lines(s.data, 0, 12_000), s.name).document
        except InputError:
            continue
        buf = io.BytesIO()
        docx.write(doc, buf)
        out.append(Seed(Path(s.name).stem + ".docx", "docx", buf.getvalue()))
    try:
        builders = _docx_builders()
    except ImportError:  # python-docx is a test dependency; without it, qabook's own DOCX only
        builders = {}
    for name, build in sorted(builders.items()):
        out.append(Seed(f"{name}.docx", "docx", build()))
    return out


def _docx_builders() -> dict[str, Callable[[], bytes]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("docx_fixtures", FIXTURES / "docx" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.BUILDERS)


# --------------------------------------------------------------------------- windows


def _frac(pos: int, n: int) -> int:
    """Position ``pos`` (0..65535) as an index into a sequence of length ``n``."""
    return (pos % 65536) * n // 65536 if n else 0


def _window_lines(data: bytes, pos: int, size: int) -> bytes:
    """About ``size`` bytes of whole lines starting near fraction ``pos`` of the data."""
    if len(data) <= size:
        return data
    start = _frac(pos, len(data) - size)
    nl = data.rfind(b"\n", 0, start)
    start = nl + 1 if nl >= 0 else 0
    end = data.find(b"\n", start + size)
    return data[start:] if end < 0 else data[start:end + 1]


# --------------------------------------------------------------------------- byte and token mutations

TOKENS: tuple[bytes, ...] = (
    b"\n", b"\n\n", b"\r\n", b"\r", b"\x00", b"\x07", b"\x0b", b"\x0c", b"\x1b", b"\x7f",
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xef\xbf\xbe", b"\xef\xbf\xbf", b"\xe2\x80\x8d", b"\xe2\x80\x93", b"\xf0\x9f\x91\xb6", b"\xcc\x81",
    b"```", b"```python\n", b"~~~", b"    ", b"\t", b"$$", b"$", b"\\(", b"\\)", b"\\[", b"\\]",
    b"\\frac{", b"\\sqrt", b"\\left(", b"\\right", b"\\begin{cases}", b"\\end{cases}", b"\\\\", b"^{", b"_",
    b"}", b"{", b"\\", b"> ", b">", b"- ", b"-\n", b"* ", b"+ ", b"1. ", b"1) ", b"2. ", b"99999. ", b"0. ",
    b"#", b"# ", b"## ", b"### ", b"#### ", b"###### ", b"---\n", b"***\n", b"===\n",
    b"1. Q: ", b"Q: ", b"Q1. ", b"A: ", b"A:\n", b"Answer: ", b"Ans: ", b"**Q:** ", b"**A:** ", b"- Answer:\n",
    b"**", b"*", b"_", b"__", b"`", b"``", b"~~", b"[", b"]", b"(", b")", b"[x](", b"![i](", b"<http://a>",
    b"[^1]", b"[a]: http://x\n",
    b"<details>", b"<summary>", b"</summary>", b"</details>", b"<b>", b"</b>", b"<br>", b"<br/>", b"<p>",
    b"<!--", b"-->", b"<div>", b"</div>", b"<table>", b"<script>", b"</script>", b"&#0;", b"&#1;", b"&#xD800;",
    b"&amp;", b"&nbsp;", b"&lt;", b"|", b"| a | b |\n|---|---|\n", b"| q | a |\n",
    b"You said:\n", b"ChatGPT said:\n", b"\xf0\x9f\x92\xa1 **Gemini Replied:**\n", b"You asked:\n", b"User:\n",
    b"Assistant:\n", b"## ChatGPT\n", b"## You\n", b"Expanded Q&A (1\xe2\x80\x9320)\n", b"Questions (21-40)\n",
    b"\xe2\x9c\x85 That's 1\xe2\x80\x9320.\n", b"Do you want me to continue?\n", b"Python\n", b"Bash\n",
    b'{"', b'":', b'[', b']', b'{', b'}', b'"', b"\\u0000", b"\\u0007", b"\\ud800", b"\\udfff", b"null", b"true",
    b"1e999", b"-1", b"9999999999999999999999", b"0.5", b'"qabook-model": "1.1"', b'"type": "Paragraph"',
    b"PK\x03\x04", b"<html>", b"<body>", b'<div class="outer-cell">', b'<div class="message">',
)

# operation kinds for bytes
_FLIP, _INSERT_TOKEN, _DELETE, _DUPLICATE, _SPLICE, _REPEAT_TOKEN, _INSERT_BYTE, _TRUNCATE, _NEST = range(9)
BYTE_OPS = 9


def mutate_bytes(data: bytes, ops: Sequence[Op], other: bytes = b"") -> bytes:
    """Apply byte-level operations; ``other`` is spliced in by :data:`_SPLICE`."""
    buf = bytearray(data)
    for kind, pos, arg in ops:
        n = len(buf)
        i = _frac(pos, n + 1)
        kind %= BYTE_OPS
        if kind == _FLIP and n:
            buf[min(i, n - 1)] ^= 1 << (arg % 8)
        elif kind == _INSERT_TOKEN:
            buf[i:i] = TOKENS[arg % len(TOKENS)]
        elif kind == _DELETE:
            del buf[i:i + 1 + arg % 64]
        elif kind == _DUPLICATE:
            chunk = bytes(buf[i:i + 1 + arg % 256])
            buf[i:i] = chunk * (1 + (arg >> 8) % 4)
        elif kind == _SPLICE and other:
            j = _frac(arg, len(other))
            buf[i:] = other[j:j + 4096]
        elif kind == _REPEAT_TOKEN:
            buf[i:i] = TOKENS[arg % len(TOKENS)] * (2 + (arg >> 8) % 64)
        elif kind == _INSERT_BYTE:
            buf[i:i] = bytes([arg % 256])
        elif kind == _TRUNCATE:
            del buf[i:]
        elif kind == _NEST:
            buf[i:i] = _nest(arg)
    return bytes(buf)


def _nest(arg: int) -> bytes:
    """Deep nesting of one kind: lists, quotes, emphasis, brackets, HTML."""
    depth = 2 + arg % 300
    kind = (arg >> 9) % 9
    if kind == 0:
        return b"\n" + b"".join(b"  " * d + b"- l\n" for d in range(depth))
    if kind == 1:
        return b"\n" + b"> " * depth + b"quoted\n"
    if kind == 2:
        return b"*" * depth + b"x" + b"*" * depth
    if kind == 3:
        return b"[" * depth + b"x" + b"](u)" * depth
    if kind == 4:
        return b"<b>" * depth + b"x" + b"</b>" * depth
    if kind == 5:
        return b"\n" + b"".join(b"   " * d + b"1. n\n" for d in range(depth))
    if kind == 6:
        return b"[" * depth + b"]" * depth
    if kind == 7:
        return b"<div>" * depth + b"x" + b"</div>" * depth
    return b"- " * depth + b"x\n"


# --------------------------------------------------------------------------- JSON tree mutations

HOSTILE_STRINGS: tuple[Any, ...] = (
    "", " ", "\x00", "a\x00b", "\x07bell", "\ud800", "\udfff x", "\ufffe", "\r\n", "\r", "\n" * 50,
    "1. Q: What?\nA: This.\n\n2. Q: Why?\nA: That.", "```\ncode", "$$x", "\\(x", "<script>alert(1)</script>",
    "]]>", "<b>", "&#0;", "x" * 5000, "- " * 200, "# h", "|a|b|\n|-|-|\n|1|2|", "Q: ?", "A:",
    "\u202e", "\u0301", "\U0001f600", "\u200d",
)
_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, 10**30, 1e308, float("inf"), "", [], {}, [None], {"": None})


def _paths(obj: Any, limit: int = 4000) -> list[tuple[Any, Any]]:
    """(container, key) of every value inside ``obj``, breadth first (at most ``limit``)."""
    out: list[tuple[Any, Any]] = []
    todo = [obj]
    while todo and len(out) < limit:
        cur = todo.pop(0)
        items = cur.items() if isinstance(cur, dict) else enumerate(cur) if isinstance(cur, list) else ()
        for k, v in items:
            out.append((cur, k))
            if isinstance(v, (dict, list)):
                todo.append(v)
    return out


_J_REPLACE, _J_HOSTILE, _J_DELETE, _J_DUPLICATE, _J_NEST, _J_WRAP, _J_SWAP, _J_MAP_TO_LIST = range(8)
JSON_OPS = 8


def mutate_json(records: Sequence[Any], pos: int, count: int, ops: Sequence[Op]) -> Any:
    """A window of ``count`` records (from fraction ``pos``) with tree operations applied."""
    count = 1 + count % 3
    start = _frac(pos, max(1, len(records) - count + 1))
    window = json.loads(json.dumps(list(records[start:start + count])))  # a deep copy
    root: Any = window
    nested = 0  # levels added by _J_NEST, kept below what json.dumps can write
    for kind, where, arg in ops:
        paths = _paths(root)
        if not paths:
            break
        parent, key = paths[_frac(where, len(paths))]
        kind %= JSON_OPS
        if kind == _J_REPLACE:
            parent[key] = copy.deepcopy(_VALUES[arg % len(_VALUES)])
        elif kind == _J_HOSTILE:
            parent[key] = HOSTILE_STRINGS[arg % len(HOSTILE_STRINGS)]
        elif kind == _J_DELETE:
            del parent[key]
        elif kind == _J_DUPLICATE and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        elif kind == _J_NEST and nested < 600:
            value = parent[key]
            levels = min(1 + arg % 400, 600 - nested)
            nested += levels
            for _ in range(levels):
                value = [value] if arg & 1 else {"x": value}
            parent[key] = value
        elif kind == _J_WRAP:
            parent[key] = [parent[key]] if arg & 1 else {"text": parent[key]}
        elif kind == _J_SWAP and isinstance(parent, list) and len(parent) > 1:
            j = arg % len(parent)
            parent[key], parent[j] = parent[j], parent[key]
        elif kind == _J_MAP_TO_LIST and isinstance(parent[key], dict):
            parent[key] = list(parent[key].values())
    if len(window) == 1 and pos & 1:
        return window[0]  # a single conversation object, not an array
    return window


def dump_json(obj: Any, style: int) -> bytes:
    """JSON text: ASCII escapes or UTF-8, compact or indented, with or without a BOM."""
    text = json.dumps(obj, ensure_ascii=bool(style & 1), indent=None if style & 2 else 1, allow_nan=True)
    data = text.encode("utf-8", "surrogatepass")
    return (b"\xef\xbb\xbf" + data) if style & 4 else data


# --------------------------------------------------------------------------- ZIP and DOCX packages

ZIP_MEMBER_NAMES = (
    "conversations.json", "chat.html", "export/conversations.json", "../conversations.json",
    "/etc/conversations.json", "C:/conversations.json", "a/../../conversations.json", "a\\..\\conversations.json",
    "Takeout/My Activity/Gemini Apps/MyActivity.json", "Takeout/My Activity/Gemini Apps/MyActivity.html",
    "word/document.xml", "[Content_Types].xml", "conversations.json\x00.txt",
)


def make_zip(members: Sequence[tuple[str, bytes]], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            zf.writestr(info, data)
    return buf.getvalue()


def lie_about_sizes(data: bytes, size: int) -> bytes:
    """Every member's declared unpacked size (local header and central directory) set to ``size``."""
    buf = bytearray(data)
    i = 0
    while (i := buf.find(b"PK\x03\x04", i)) >= 0:
        if i + 26 <= len(buf):
            struct.pack_into("<I", buf, i + 22, size & 0xFFFFFFFF)
        i += 4
    i = 0
    while (i := buf.find(b"PK\x01\x02", i)) >= 0:
        if i + 28 <= len(buf):
            struct.pack_into("<I", buf, i + 24, size & 0xFFFFFFFF)
        i += 4
    return bytes(buf)


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


XML_ATTACKS: tuple[bytes, ...] = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">',
)


def mutate_docx(data: bytes, ops: Sequence[Op]) -> bytes:
    """A DOCX with its document part (or another part) mutated, or its package damaged."""
    members = zip_members(data)
    compress = True
    for kind, pos, arg in ops:
        k = kind % 6
        if k == 0 or k == 1:  # byte and token mutations inside one XML part
            idx = next((j for j, (n, _) in enumerate(members) if n == "word/document.xml"), 0)
            if k == 1:
                idx = _frac(pos, len(members))
            name, body = members[idx]
            members[idx] = (name, mutate_bytes(body, [(arg % BYTE_OPS, pos, arg >> 4)]))
        elif k == 2:  # an XML part with a DTD: entities, external entities
            idx = _frac(pos, len(members))
            name, body = members[idx]
            attack = XML_ATTACKS[arg % len(XML_ATTACKS)]
            body = body.split(b"?>", 1)[-1] if body.startswith(b"<?xml") else body
            root = body.lstrip()[1:].split(b" ", 1)[0].split(b">", 1)[0]
            members[idx] = (name, attack.replace(b"DOCTYPE d", b"DOCTYPE " + root)
                            + body.replace(b"<w:t>", b"<w:t>&d;", 1).replace(b"<w:t xml:space=\"preserve\">",
                                                                            b"<w:t xml:space=\"preserve\">&x;", 1))
        elif k == 3:  # a member renamed, dropped or added with a hostile name
            idx = _frac(pos, len(members))
            if arg % 3 == 0:
                members.pop(idx)
            elif arg % 3 == 1:
                members.append((ZIP_MEMBER_NAMES[arg % len(ZIP_MEMBER_NAMES)], members[idx][1]))
            else:
                members[idx] = ("../" + members[idx][0], members[idx][1])
        elif k == 4:  # deep nesting inside the body: hyperlinks, tables in tables, content controls
            depth = 10 + arg % 3000
            run = b"<w:r><w:t>x</w:t></w:r>"
            shape = (arg >> 1) % 3
            if shape == 0:
                nest = b"<w:p>" + b"<w:hyperlink>" * depth + run + b"</w:hyperlink>" * depth + b"</w:p>"
            elif shape == 1:
                nest = b"<w:tbl><w:tr><w:tc>" * depth + b"<w:p>" + run + b"</w:p>" + b"</w:tc></w:tr></w:tbl>" * depth
            else:
                nest = b"<w:sdt><w:sdtContent>" * depth + b"<w:p>" + run + b"</w:p>" + b"</w:sdtContent></w:sdt>" * depth
            members = [(n, b.replace(b"<w:body>", b"<w:body>" + nest, 1) if n == "word/document.xml" else b)
                       for n, b in members]
        else:
            compress = bool(arg & 1)
    out = make_zip(members, compress)
    last = ops[-1] if ops else (0, 0, 0)
    if last[2] % 7 == 0:
        out = lie_about_sizes(out, last[1] * 65536)
    elif last[2] % 7 == 1:
        out = mutate_bytes(out, [(_FLIP, last[1], last[2]), (_DELETE, last[1] ^ 0x5555, last[2])])
    return out


# --------------------------------------------------------------------------- one input from a seed


def make_input(seed_index: int, pos: int, size: int, ops: Sequence[Op], style: int,
               use_corpus: bool = True) -> tuple[str, bytes]:
    """The input made from seed ``seed_index`` by ``ops`` (a file name and bytes)."""
    all_seeds = seeds(use_corpus)
    seed = all_seeds[seed_index % len(all_seeds)]
    other = all_seeds[(seed_index + 1 + style) % len(all_seeds)].data
    if seed.kind == "json":
        obj = mutate_json(seed.records, pos, size, [op for op in ops if op[0] % 2 == 0])
        data = dump_json(obj, style)
        data = mutate_bytes(data, [op for op in ops if op[0] % 2 == 1][:2])
        if style & 8:  # the same in a ZIP export, under a hostile name now and then
            name = ZIP_MEMBER_NAMES[(style >> 4) % len(ZIP_MEMBER_NAMES)] if style & 16 else seed.name
            data = make_zip([(name, data)], compress=bool(style & 32))
            if style & 64:
                data = lie_about_sizes(data, pos * 1024)
        return seed.name, data
    if seed.kind == "docx":
        return seed.name, mutate_docx(seed.data, ops)
    if seed.kind == "zip":
        if style & 1:  # damage the archive itself
            return seed.name, mutate_bytes(seed.data, ops, other)
        # a sound archive whose members are damaged, renamed now and then
        members = [(n if not style & 2 else ZIP_MEMBER_NAMES[(style >> 2) % len(ZIP_MEMBER_NAMES)],
                    mutate_bytes(b, ops, other)) for n, b in zip_members(seed.data)]
        return seed.name, make_zip(members, compress=bool(style & 4))
    data = _window_lines(seed.data, pos, 256 + size % 16_000)
    data = mutate_bytes(data, ops, other)
    if style & 3 == 3:  # re-encoded as UTF-16 with a byte-order mark
        data = data.decode("utf-8", "replace").encode("utf-16")
    return seed.name, data


def random_ops(rng: random.Random, n: int) -> list[Op]:
    return [(rng.randrange(256), rng.randrange(65536), rng.randrange(1 << 20)) for _ in range(n)]


def random_input(rng: random.Random, use_corpus: bool = True) -> tuple[str, str, bytes]:
    """One input drawn from ``rng``: the kind of its seed, its file name and its bytes."""
    n_ops = rng.choice((0, 1, 1, 2, 2, 3, 4, 6, 10, 20))
    seed_index = rng.randrange(1 << 16)
    kind = seeds(use_corpus)[seed_index % len(seeds(use_corpus))].kind
    name, data = make_input(seed_index, rng.randrange(65536), rng.randrange(1 << 16), random_ops(rng, n_ops),
                            rng.randrange(256), use_corpus)
    return kind, name, data


# --------------------------------------------------------------------------- running one input


class Failure(AssertionError):
    """qabook broke one of its promises on this input (not an exception of its own)."""


class Lost(Failure):
    """qabook's own output does not hold every word of what it read."""


def _secret() -> bytes:
    """A line of a local file an external entity could point at (``file:///etc/passwd``)."""
    try:
        return Path("/etc/passwd").read_bytes().split(b"\n", 1)[0]
    except OSError:
        return b""


SECRET = _secret()


def _has_math(node: Any) -> bool:
    """Whether a model node holds a formula anywhere inside it."""
    import dataclasses

    from qabook.model import Math, MathBlock

    if isinstance(node, (Math, MathBlock)):
        return True
    if isinstance(node, tuple):
        return any(_has_math(n) for n in node)
    if dataclasses.is_dataclass(node):
        return any(_has_math(getattr(node, f.name)) for f in dataclasses.fields(node))
    return False


def _lost_items(doc: Any, outputs: dict[str, bytes]) -> str:
    """What the DOCX, Markdown and JSON outputs do not hold of the document's items ("" for nothing).

    Each item is compared by its characters: the number and the letters and digits of the question,
    and those of the answer (as ``qabook verify`` reads them). Words split or joined differently
    (emphasis inside a word) and an unnumbered question that starts with "1." (which a DOCX heading
    cannot tell from item 1) compare equal; a character dropped or changed does not. Items with a
    formula are left out: formulas are compared by the symbols they show, which garbage TeX does
    not pin down (tests/test_math_* hold formulas to account).
    """
    from collections import Counter

    from qabook.audit.verify import items_of, read_output

    def key(it: Any) -> tuple[str, str]:
        return ("" if it.number is None else str(it.number)) + "".join(it.question), "".join(it.answer)

    wanted = Counter(key(r) for it, r in zip(doc.items(), items_of(doc)) if not _has_math(it))
    for fmt, out_name in (("docx", "out.docx"), ("markdown", "out.md"), ("json", "out.json")):
        found = Counter(key(r) for r in read_output(outputs[fmt], out_name))
        missing = wanted - found
        if missing:
            (q, a), n = next(iter(missing.items()))
            return f"{fmt}: {sum(missing.values())} item(s) not read back as written, e.g. {q[:120]!r} / {a[:200]!r}"
    return ""


def _one_line(exc: BaseException) -> str:
    """What is wrong with an ``InputError``'s message ("" when it is one line of text)."""
    text = str(exc)
    return "" if text and "\n" not in text and "\r" not in text else f"InputError message is not one line: {text!r}"


def _as_the_command_line_does(name: str, data: bytes, docx: bytes | None, options: Any, workdir: Path | None) -> str:
    """Convert the input from a file to DOCX as ``qabook convert`` does (the streaming path); what
    is wrong ("" for nothing). ``docx`` is the DOCX written from what :func:`load` read, or None when
    it refused the input: then this must refuse it too and leave nothing but the input behind;
    else it must write the same bytes. The input file is never changed."""
    import tempfile

    from qabook.pipeline import convert
    from qabook.readers.base import InputError

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        src = Path(tmp) / "input"
        src.write_bytes(data)
        out = Path(tmp) / "out.docx"
        try:
            convert(None, name, str(out), options, path=str(src))
        except InputError as exc:
            if docx is not None:
                return f"load read it but convert refused it: {exc}"
            if _one_line(exc):
                return _one_line(exc)
            if sorted(p.name for p in Path(tmp).iterdir()) != ["input"]:
                return f"a refused input left files behind: {sorted(p.name for p in Path(tmp).iterdir())}"
        else:
            if docx is None:
                return "load refused it but convert read it"
            if out.read_bytes() != docx:
                return "convert wrote another DOCX than the one written from what load read"
        if src.read_bytes() != data:
            return "the input file was changed"
    return ""


def _in_two_parts(markdown_text: bytes, workdir: Path | None) -> str:
    """qabook's Markdown of a loaded input converted to DOCX by two processes (cut at a section
    heading past the middle, else at the first one) must give the bytes one process gives; what is
    wrong ("" for nothing)."""
    import tempfile

    from qabook import pipeline
    from qabook.readers import markdown
    from qabook.source import Source

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        src = Path(tmp) / "qa.md"
        src.write_bytes(markdown_text)
        source = Source("qa.md", path=str(src))
        at = next((a for a in (0.5, 0.0) if markdown.cut(source, a) is not None), None)
        if at is None:
            return ""
        one, two = Path(tmp) / "one.docx", Path(tmp) / "two.docx"
        pipeline.convert(None, "qa.md", str(one), path=str(src))
        saved = markdown.CUT_AT
        markdown.CUT_AT = at
        try:
            pipeline.convert(None, "qa.md", str(two), path=str(src), parallel=True)
        finally:
            markdown.CUT_AT = saved
        if one.read_bytes() != two.read_bytes():
            return f"two processes (cut at {at:.0%}) wrote another DOCX than one process"
    return ""


def run_one(name: str, data: bytes, writers: bool = True, audit: bool = False, reader: str | None = None,
            workdir: Path | None = None) -> BaseException | None:
    """Load the input and write every format; the exception that is not ``InputError``, if any.

    ``InputError`` must be one line. With ``writers``, whatever loads is written in every format (no
    output may hold a line of ``/etc/passwd``: an external entity resolved), and the input is also
    converted from a file as ``qabook convert`` does it (:func:`_as_the_command_line_does`). With
    ``audit``, also review it (``qabook check``) and read the DOCX, Markdown and JSON back (``qabook
    verify``): every item must be there word for word, else :class:`Lost`; and convert the Markdown
    to DOCX in two processes as ``qabook convert`` does for big files (:func:`_in_two_parts`).
    ``reader`` forces a reader (``--from``).
    """
    from qabook.formats import WRITERS
    from qabook.pipeline import Options, load
    from qabook.pipeline import can_fork as pipeline_can_fork
    from qabook.readers.base import InputError

    options = Options(reader=reader) if reader else Options()
    try:
        try:
            result = load(data, name, options)
        except InputError as exc:
            problem = _one_line(exc) or (
                _as_the_command_line_does(name, data, None, options, workdir) if writers else "")
            return Failure(problem) if problem else None
        if not writers:
            return None
        outputs = {}
        for w in WRITERS:
            buf = io.BytesIO()
            w.write(result.document, buf, None)
            outputs[w.name] = buf.getvalue()
        leaked = [fmt for fmt, out in outputs.items() if SECRET and SECRET in out]
        if leaked:
            return Failure(f"{', '.join(leaked)} output holds a line of /etc/passwd")
        problem = _as_the_command_line_does(name, data, outputs["docx"], options, workdir)
        if problem:
            return Failure(problem)
        if audit:
            from qabook.audit.check import review

            review(result)
            lost = _lost_items(result.document, outputs)
            if lost:
                return Lost(lost)
            if pipeline_can_fork():
                problem = _in_two_parts(outputs["markdown"], workdir)
                if problem:
                    return Failure(problem)
    except Exception as exc:  # noqa: BLE001 - that is what the fuzzing looks for
        return exc
    return None
