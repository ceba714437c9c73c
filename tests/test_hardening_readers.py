"""Hostile input at the readers, in process: each test pins one bug the hardening work found.

The command-line view of the same inputs (messages, exit codes, files left behind) is in
``test_hardening_cli.py``; time that grows faster than the input is in ``test_hardening_scaling.py``.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pytest

from qabook import model
from qabook.formats import WRITERS
from qabook.model import (
    MAX_NESTING,
    Block,
    BulletList,
    Document,
    Emphasis,
    Inline,
    Item,
    Link,
    ListItem,
    OrderedList,
    Paragraph,
    Quote,
    Section,
    Strong,
    Text,
    plain_text,
)
from qabook.pipeline import load
from qabook.readers.base import InputError
from tests.conftest import FIXTURES


def _block_depth(blocks: tuple[Block, ...]) -> int:
    deepest = 0
    for b in blocks:
        if isinstance(b, (BulletList, OrderedList)):
            deepest = max([deepest] + [1 + _block_depth(li.blocks) for li in b.items])
        elif isinstance(b, Quote):
            deepest = max(deepest, 1 + _block_depth(b.blocks))
    return deepest


def _inline_depth(inlines: tuple[Inline, ...]) -> int:
    return max([0] + [1 + _inline_depth(n.children) for n in inlines if isinstance(n, (Strong, Emphasis, Link))])


def _paragraph_inline_depth(blocks: tuple[Block, ...]) -> int:
    deepest = 0
    for b in blocks:
        if isinstance(b, Paragraph):
            deepest = max(deepest, _inline_depth(b.inlines))
        elif isinstance(b, (BulletList, OrderedList)):
            deepest = max([deepest] + [_paragraph_inline_depth(li.blocks) for li in b.items])
        elif isinstance(b, Quote):
            deepest = max(deepest, _paragraph_inline_depth(b.blocks))
    return deepest


def _write_all(doc: Document) -> dict[str, bytes]:
    out = {}
    for w in WRITERS:
        buf = io.BytesIO()
        w.write(doc, buf, None)
        out[w.name] = buf.getvalue()
    return out


# --------------------------------------------------------------------------- nesting


def _nested_list(depth: int, indent: str = "  ", marker: str = "- ") -> str:
    return "\n".join(indent * i + f"{marker}level{i}" for i in range(depth))


@pytest.mark.parametrize("engine", ["pulldown", "markdown-it"])
def test_a_list_nested_1000_deep_is_read_flat_below_max_nesting_with_every_word(engine: str) -> None:
    from qabook.readers.commonmark import parse_blocks, parse_blocks_markdown_it

    parse = parse_blocks if engine == "pulldown" else parse_blocks_markdown_it
    blocks = parse(_nested_list(1000) + "\n\nafter the list\n")
    assert _block_depth(blocks) == MAX_NESTING
    text = json.dumps(model.to_json_obj(Document("t", "s", (Section("s", (Item(1, (), blocks),)),))))
    assert all(f'"level{i}"' in text for i in range(1000))
    assert isinstance(blocks[-1], Paragraph) and plain_text(blocks[-1].inlines) == "after the list"


@pytest.mark.parametrize("prefix", ["> ", "- ", "* ", "1. ", "> - ", "\t- "])
def test_containers_nested_1000_deep_on_one_line(prefix: str) -> None:
    from qabook.readers.commonmark import parse_blocks, parse_blocks_markdown_it

    for parse in (parse_blocks, parse_blocks_markdown_it):
        blocks = parse(prefix * 1000 + "the bottom\n\nafter\n")
        assert _block_depth(blocks) <= MAX_NESTING
        assert "the bottom" in str(blocks) and plain_text(blocks[-1].inlines) == "after"  # type: ignore[union-attr]


def test_markdown_keeps_every_question_after_a_deeply_nested_answer() -> None:
    """markdown-it stops reading at its nesting limit and drops the rest of the file: a list
    nested ten levels deep in the first answer used to lose every later question."""
    text = ("# Deep\n\n### 1. What is deep?\n\n" + _nested_list(12) + "\n\n### 2. What comes after?\n\nThe rest.\n\n"
            "### 3. And after that?\n\nEven more.\n")
    doc = load(text.encode(), "deep.md").document
    assert [it.number for it in doc.items()] == [1, 2, 3]
    assert "level11" in str(next(doc.items()).answer)


def test_emphasis_and_links_nested_deeper_than_max_nesting_are_read_flat() -> None:
    from qabook.readers.commonmark import parse_blocks, parse_blocks_markdown_it

    text = "*" * 601 + "core" + "*" * 601 + " and " + "[x" * 300 + "](u)" * 300
    for parse in (parse_blocks, parse_blocks_markdown_it):
        blocks = parse(text)
        assert _paragraph_inline_depth(blocks) <= MAX_NESTING + 1
        assert "core" in plain_text(blocks[0].inlines)  # type: ignore[union-attr]


def test_html_nested_thousands_deep_in_a_gemini_answer() -> None:
    from qabook.readers.gemini import html_blocks

    blocks = html_blocks("<div>" * 5000 + "<b>" * 3000 + "deep" + "</b>" * 3000 + "</div>" * 5000 +
                         "<ul><li>" * 200 + "listed" + "</li></ul>" * 200 + "<blockquote>" * 200 + "quoted")
    assert "deep" in str(blocks) and "listed" in str(blocks) and "quoted" in str(blocks)
    assert _block_depth(tuple(blocks)) <= MAX_NESTING and _paragraph_inline_depth(tuple(blocks)) <= MAX_NESTING


def test_bold_nested_a_thousand_deep_in_a_details_summary() -> None:
    text = ("## Topic\n\n<details><summary>" + "<b>" * 1000 + "What is deep?" + "</b>" * 1000 +
            "</summary>\n\nVery.\n\n</details>\n\n<details><summary>And then?</summary>\n\nDone.\n\n</details>\n")
    doc = load(text.encode(), "faq.md").document
    first = next(doc.items())
    assert plain_text(first.question) == "What is deep?" and _inline_depth(first.question) <= MAX_NESTING
    assert len(list(doc.items())) == 2
    assert model.from_json(model.to_json(doc)) == doc


@pytest.mark.parametrize("odd", ["<![x]>", "<![[[", "<![ ]>"])
def test_a_marked_section_the_html_tokenizer_does_not_know_is_a_bogus_comment(odd: str) -> None:
    """Python before 3.13 raised AssertionError on '<![' without a known keyword; HTML5 reads it
    as a comment up to the next '>' (and as text when none follows)."""
    faq = (f"## Topic\n\n<details><summary><b>What is {odd} this?</b></summary>\n\nIt is.\n\n</details>\n\n"
           "<details><summary>And then?</summary>\n\nDone.\n\n</details>\n")
    doc = load(faq.encode(), "faq.md").document
    assert [plain_text(it.question).split()[:2] for it in doc.items()] == [["What", "is"], ["And", "then?"]]
    page = (FIXTURES / "gemini" / "MyActivity.html").read_bytes().replace(b"<p>It replays", odd.encode() + b"<p>It replays")
    assert page != (FIXTURES / "gemini" / "MyActivity.html").read_bytes()
    answers = [" ".join(str(b) for b in it.answer) for it in load(page, "MyActivity.html").document.items()]
    assert any("It replays your commits" in a for a in answers)


def _deep_model(depth: int) -> Document:
    block: Block = Paragraph((Text("leaf"),))
    inline: Inline = Text("deep")
    for i in range(depth):
        block = BulletList((ListItem((Paragraph((Text(f"l{i}"),)), block)),)) if i % 2 else Quote((block,))
        inline = Strong((inline,)) if i % 2 else Emphasis((Link("https://e.org", (inline,)),))
    return Document("T", "s", (Section("S", (Item(1, (Text("Q?"),), (block, Paragraph((inline,)))),)),))


def test_every_writer_takes_a_model_nested_max_nesting_deep_and_reads_its_json_back() -> None:
    doc = _deep_model(MAX_NESTING)
    outputs = _write_all(doc)
    assert model.from_json(outputs["json"].decode()) == doc


def test_a_qabook_model_nested_too_deep_is_refused() -> None:
    deep = '{"type": "Text", "text": "x"}'
    for _ in range(2000):
        deep = '{"type": "Strong", "children": [' + deep + "]}"
    with pytest.raises(model.ModelError, match="nested more than"):
        model.from_json('{"qabook-model": "1.1", "type": "Document", "title": "", "source": "", "sections": ['
                        '{"type": "Section", "title": "", "items": [{"type": "Item", "number": 1, "question": ['
                        + deep + '], "answer": []}]}]}')
    with pytest.raises(model.ModelError, match="nested more than"):
        model.from_json('{"qabook-model": "1.1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")


# --------------------------------------------------------------------------- qabook JSON: node kinds and numbers


def _model_json(item: str, meta: str = "[]") -> str:
    return ('{"qabook-model": "1.1", "type": "Document", "title": "T", "source": "s", "meta": ' + meta +
            ', "sections": [{"type": "Section", "title": "S", "items": [' + item + "]}]}")


@pytest.mark.parametrize("item,message", [
    ('{"type": "Item", "number": 1, "question": [{"type": "Rule"}], "answer": []}',
     "Item.question: holds a Rule where inlines belong"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [{"type": "Text", "text": "x"}]}',
     "Item.answer: holds a Text where blocks belong"),
    ('{"type": "Item", "number": 1, "question": ["just a string"], "answer": []}',
     "Item.question: holds a string where inlines belong"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [{"type": "BulletList", "items": '
     '[{"type": "Paragraph", "inlines": []}]}]}', "BulletList.items: holds a Paragraph where ListItem nodes belong"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [], "status": "maybe"}',
     "Item.status: expected one of 'answered', 'unanswered'"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [], "origin": {"type": "Text", "text": "x"}}',
     "Item.origin: expected a Origin"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [], "origin": {"type": "Origin", "rendition": 0}}',
     "Origin.rendition: 0 is not between 1 and 1000"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [], '
     '"origin": {"type": "Origin", "rendition": 1000000000}}', "Origin.rendition: 1000000000 is not between"),
    ('{"type": "Item", "number": -3, "question": [], "answer": []}', "Item.number: -3 is not between"),
    ('{"type": "Item", "number": 1, "question": [], "answer": [{"type": "Table", "header": [[{"type": "Text", '
     '"text": "h"}]], "rows": [[{"type": "Text", "text": "not a cell"}]]}]}', "Table.rows: expected rows"),
])
def test_a_qabook_model_with_nodes_of_the_wrong_kind_is_refused(item: str, message: str) -> None:
    with pytest.raises(model.ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.from_json(_model_json(item))
    with pytest.raises(InputError, match="is not a valid qabook model"):
        load(_model_json(item).encode(), "model.json")


def test_a_qabook_model_with_malformed_meta_is_refused() -> None:
    with pytest.raises(model.ModelError, match=r"Document.meta: expected \[key, value\] pairs of strings"):
        model.from_json(_model_json('{"type": "Item", "number": 1, "question": [], "answer": []}', '[["a"]]'))


def test_every_node_kind_still_reads_back() -> None:
    from tests.test_model import EVERY_NODE

    assert model.from_json(model.to_json(EVERY_NODE)) == EVERY_NODE


# --------------------------------------------------------------------------- long questions


@pytest.mark.parametrize("size", [301, 5_000, 2**20])
def test_a_question_longer_than_300_characters_is_a_question(size: int) -> None:
    question = ("why " * (size // 4 + 1))[:size].strip() + "?"
    text = f"Questions (1–2)\n\n1. Q: {question}\nA: Because.\n\n2. Q: Short?\nA: Yes.\n"
    result = load(text.encode(), "chat.txt")
    first = next(result.document.items())
    assert first.number == 1 and plain_text(first.question) == question
    assert not result.report.skipped


def test_a_long_line_that_only_mentions_q_is_text() -> None:
    text = "1. Q: What?\nA: " + "Q: " * 200 + "\n\n2. Q: Why?\nA: Because.\n"
    assert [it.number for it in load(text.encode(), "chat.txt").document.items()] == [1, 2]


# --------------------------------------------------------------------------- characters no document may hold

FORBIDDEN = "\x00\x01\x08\x0b\x0c\x0e\x1b\x1f\ufffe\uffff"


def _all_text(doc: Document) -> str:
    return model.to_json(doc)


def test_control_characters_in_json_escapes_are_removed_and_reported() -> None:
    export = (FIXTURES / "chatgpt" / "conversations.json").read_text(encoding="utf-8")
    escaped = export.replace("A: A structure", "A: A \\u0000\\u0001\\u001b\\ufffe\\uffffstructure", 1)
    assert escaped != export
    result = load(escaped.encode(), "conversations.json")
    assert "5 control character(s) written as escapes or entities removed" in " ".join(result.report.warnings)
    assert not any(c in _all_text(result.document) for c in FORBIDDEN)
    assert "A structure" in _all_text(result.document)


def test_control_characters_in_character_references_are_removed() -> None:
    text = "1. Q: What is &#1;a tensor&#xFFFE;?\nA: An array&#27;.\n\n2. Q: Why?\nA: Because.\n"
    result = load(text.encode(), "chat.txt")
    assert "3 control character(s) written as escapes or entities removed" in " ".join(result.report.warnings)
    assert plain_text(next(result.document.items()).question) == "What is a tensor?"


def test_control_characters_in_a_qabook_model_are_removed() -> None:
    text = _model_json('{"type": "Item", "number": 1, "question": [{"type": "Text", "text": "a\\u0007b"}], '
                       '"answer": [{"type": "CodeBlock", "text": "x\\u0000y", "language": "py\\u0001"}]}')
    result = load(text.encode(), "model.json")
    assert not any(c in _all_text(result.document) for c in FORBIDDEN)
    outputs = _write_all(result.document)
    for name, data in outputs.items():
        if name not in ("docx", "anki"):
            assert not any(c.encode() in data for c in FORBIDDEN[:8]), name


def test_a_clean_document_is_returned_as_it_is() -> None:
    from qabook.source import clean_document

    doc = load((FIXTURES / "chatgpt" / "conversations.json").read_bytes(), "c.json").document
    assert clean_document(doc) == (doc, 0) and clean_document(doc)[0] is doc


# --------------------------------------------------------------------------- chat-app exports of the wrong shape


def _chatgpt(mapping: object) -> bytes:
    return json.dumps([{"title": "t", "create_time": 1717236000, "current_node": "missing",
                        "mapping": mapping}]).encode()


def test_a_chatgpt_node_whose_parent_is_not_an_id() -> None:
    mapping = {"a": {"parent": ["not", "an", "id"], "children": [], "message": {
        "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["What is x?"]}}}}
    doc = load(_chatgpt(mapping), "conversations.json").document
    assert [plain_text(it.question) for it in doc.items()] == ["What is x?"]


def _claude(messages: object) -> bytes:
    return json.dumps([{"uuid": "c", "name": "t", "created_at": "2024-07-01T09:00:00Z",
                        "current_leaf_message_uuid": "m2", "chat_messages": messages}]).encode()


@pytest.mark.parametrize("field,value", [("uuid", ["a", "list"]), ("uuid", {"a": 1}), ("attachments", 1.5),
                                         ("attachments", "text"), ("attachments", {"x": 1})])
def test_a_claude_message_with_fields_of_the_wrong_type(field: str, value: object) -> None:
    messages: list[dict[str, object]] = [
        {"uuid": "m1", "sender": "human", "text": "What is x?"},
        {"uuid": "m2", "sender": "assistant", "text": "An unknown.", "parent_message_uuid": "m1"},
        {"uuid": "m3", "sender": "human", "text": "An edited prompt, off the branch."}]
    messages[2 if field == "uuid" else 0][field] = value
    doc = load(_claude(messages), "conversations.json").document
    assert [plain_text(it.question) for it in doc.items()] == ["What is x?"]


def test_a_zip_export_whose_directory_points_before_the_file() -> None:
    data = bytearray((FIXTURES / "chatgpt" / "export.zip").read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, struct.unpack_from("<I", data, end + 16)[0] + 1000)
    with pytest.raises(InputError, match="damaged"):
        load(bytes(data), "export.zip")


def test_a_zip_export_whose_json_member_does_not_inflate() -> None:
    export = (FIXTURES / "chatgpt" / "conversations.json").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conversations.json", export)
    data = bytearray(buf.getvalue())
    start = data.find(b"conversations.json") + len("conversations.json")
    data[start + 20:start + 60] = b"\xff" * 40  # the member's compressed bytes
    with pytest.raises(InputError):
        load(bytes(data), "export.zip")


# --------------------------------------------------------------------------- check


def test_check_lists_a_bounded_number_of_gaps_quickly() -> None:
    from qabook.audit.check import MAX_GAPS, review

    text = _model_json('{"type": "Item", "number": 1, "question": [], "answer": []}, '
                       '{"type": "Item", "number": 999999999, "question": [], "answer": []}')
    (coverage,) = review(load(text.encode(), "model.json")).coverage
    assert coverage.gaps[:3] == (2, 3, 4) and len(coverage.gaps) == MAX_GAPS and not coverage.complete


def test_check_gaps_are_the_missing_numbers() -> None:
    from qabook.audit.check import review

    text = "Q&A (1–9)\n\n" + "".join(f"{n}. Q: Question {n}?\nA: Answer {n}.\n\n" for n in (1, 2, 5, 9))
    (coverage,) = review(load(text.encode(), "chat.txt")).coverage
    assert coverage.gaps == (3, 4, 6, 7, 8)


# --------------------------------------------------------------------------- qabook's Markdown reads back as written


def _round_trip(doc: Document) -> Document:
    from qabook.writers import markdown

    return load(markdown.render(doc).encode(), "notes.md").document


def _doc(*items: Item, title: str = "T", section: str = "S") -> Document:
    return Document(title, "s", (Section(section, items),))


def _answer(text: str) -> tuple[Block, ...]:
    return (Paragraph((Text(text),)),)


@pytest.mark.parametrize("answer", ["Ans: a word for an action.", "Answer: yes.", "A: yes.", "TBD", "!",
                                    "Answer here", "N/A"])
def test_answers_that_look_like_labels_or_stand_ins_read_back(answer: str) -> None:
    doc = _doc(Item(1, (Text("What?"),), _answer(answer)), Item(2, (Text("Why?"),), _answer("Because.")))
    back = _round_trip(doc)
    assert [(it.number, it.answer, it.status) for it in back.items()] == \
        [(1, _answer(answer), "answered"), (2, _answer("Because."), "answered")]


def test_a_numbered_item_with_an_empty_question_keeps_its_number() -> None:
    doc = _doc(Item(7, (), _answer("An answer to nothing.")), Item(8, (Text("Next?"),), _answer("Yes.")))
    assert [(it.number, it.question) for it in _round_trip(doc).items()] == [(7, ()), (8, (Text("Next?"),))]


def test_line_breaks_inside_code_and_formulas_in_a_question_stay_in_its_heading() -> None:
    from qabook.model import Code, Math

    question = (Text("What is "), Code("a\n| b |\n|---|"), Text(" and "), Math("x\n+ y"), Text("?"))
    doc = _doc(Item(1, question, _answer("Both.")), Item(2, (Text("Next?"),), _answer("Yes.")))
    back = list(_round_trip(doc).items())
    assert [it.number for it in back] == [1, 2]
    assert plain_text(back[0].question) == "What is a | b | |---| and x + y?"
    assert back[0].answer == _answer("Both.")


@pytest.mark.parametrize("lst", [BulletList, OrderedList])
@pytest.mark.parametrize("depth", [1, 3])
def test_code_in_a_list_item_does_not_hide_the_questions_after_it(lst: type, depth: int) -> None:
    """The fences of a code block in a list item are indented (by 2 or 3 spaces at the first
    level): qabook's Markdown reader took the closing one for an opening fence at the top level
    and read every later heading as code."""
    from qabook.model import CodeBlock

    deep: Block = CodeBlock("3. Count.\n### 9. Not a question", "")
    for _ in range(depth):
        deep = lst((ListItem((Paragraph((Text("Steps:"),)),)), ListItem((deep,))))
    doc = _doc(Item(1, (Text("How?"),), (deep,)), Item(2, (Text("And then?"),), _answer("Done.")),
               Item(3, (Text("Last?"),), (CodeBlock("```\n### 4. Also not", "md"),)))
    back = _round_trip(doc)
    assert [(it.number, it.question, it.answer) for it in back.items()] == \
        [(it.number, it.question, it.answer) for it in doc.items()]


def test_titles_with_line_breaks_stay_headings() -> None:
    doc = _doc(Item(1, (Text("What?"),), _answer("This.")), title="A title\n- not a list", section="Part\n# two")
    back = _round_trip(doc)
    assert back.title == "A title - not a list" and back.sections[0].title == "Part # two"
    assert [it.number for it in back.items()] == [1]


# --------------------------------------------------------------------------- verify reads DOCX files defensively


def _docx_bytes() -> bytes:
    from qabook.writers import docx

    buf = io.BytesIO()
    docx.write(_doc(Item(1, (Text("What?"),), _answer("This."))), buf)
    return buf.getvalue()


def _replace_document(data: bytes, edit: object) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info.filename, edit(body) if info.filename == "word/document.xml" else body)  # type: ignore[operator]
    return buf.getvalue()


@pytest.mark.parametrize("case,message", [
    ("damaged deflate stream", "is not a readable DOCX file"),
    ("negative seek", "is not a readable DOCX file"),
    ("entity expansion", "declares a DTD"),
    ("external entity", "declares a DTD"),
])
def test_verify_refuses_damaged_and_hostile_docx_with_one_line(case: str, message: str) -> None:
    from qabook.audit.verify import read_docx

    data = _docx_bytes()
    if case == "damaged deflate stream":
        raw = bytearray(data)
        start = raw.find(b"word/document.xml") + len("word/document.xml")
        raw[start + 40:start + 80] = b"\xff" * 40
        data = bytes(raw)
    elif case == "negative seek":
        raw = bytearray(data)
        end = raw.rfind(b"PK\x05\x06")
        struct.pack_into("<I", raw, end + 16, struct.unpack_from("<I", raw, end + 16)[0] + 100_000)
        data = bytes(raw)
    else:
        dtd = (b'<!DOCTYPE w:document [<!ENTITY a "haha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
               if case == "entity expansion" else b'<!DOCTYPE w:document [<!ENTITY b SYSTEM "file:///etc/passwd">]>')
        data = _replace_document(data, lambda xml: xml.replace(b"?>", b"?>" + dtd, 1).replace(
            b"<w:t>", b"<w:t>&b;", 1).replace(b'<w:t xml:space="preserve">', b'<w:t xml:space="preserve">&b;', 1))
    with pytest.raises(InputError, match=message) as info:
        read_docx(data)
    assert "\n" not in str(info.value)
