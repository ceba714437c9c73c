"""Each repair pass on small before/after cases, its count, and what it must leave alone."""

from __future__ import annotations

from collections import Counter

import pytest

from qabook.model import (
    Block,
    BulletList,
    Code,
    CodeBlock,
    Document,
    Item,
    ListItem,
    Math,
    MathBlock,
    Paragraph,
    Section,
    Strong,
    Text,
)
from qabook.readers.commonmark import parse_blocks
from qabook.repair import PASSES, repair
from qabook.repair import code_labels, empty_items, labels, math_copies, split_code, tex_symbols
from qabook.repair.base import PassContext
from qabook.words import block_words


def _item(blocks: tuple[Block, ...] | str, question: str = "Q?") -> Item:
    answer = parse_blocks(blocks) if isinstance(blocks, str) else blocks
    return Item(1, (Text(question),), answer)


def _run(module, source: str | tuple[Block, ...]) -> tuple[tuple[Block, ...], PassContext]:  # type: ignore[no-untyped-def]
    ctx = PassContext()
    item = _item(source)
    ctx.item = item
    return module.run(item, ctx).answer, ctx


def _chars(blocks: tuple[Block, ...]) -> Counter[str]:
    return Counter("".join(block_words(blocks)).replace("$", ""))


# --------------------------------------------------------------------------- split code

def test_split_code_merges_one_fence_per_line_keeping_indentation() -> None:
    src = "```\nfor x in xs:\n```\n\n```\n    if x:\n```\n\n```\n\n```\n\n```\n        print(x)\n```\n"
    out, ctx = _run(split_code, src)
    assert out == (CodeBlock("for x in xs:\n    if x:\n\n        print(x)"),)
    assert ctx.count == 1


def test_split_code_leaves_multiline_blocks_and_separated_snippets() -> None:
    src = "```\na = 1\nb = 2\n```\n\n```\nc = 3\n```\n\ntext\n\n```\nd = 4\n```\n"
    out, ctx = _run(split_code, src)
    assert len([b for b in out if isinstance(b, CodeBlock)]) == 3
    assert ctx.count == 0


def test_split_code_does_not_merge_different_languages() -> None:
    out, ctx = _run(split_code, (CodeBlock("x", "python"), CodeBlock("y", "bash")))
    assert len(out) == 2 and ctx.count == 0


# --------------------------------------------------------------------------- code labels

@pytest.mark.parametrize("label,lang", [("Python", "python"), ("Bash", "bash"), ("JSON", "json"), ("C++", "c++")])
def test_language_label_becomes_code_language(label: str, lang: str) -> None:
    out, ctx = _run(code_labels, f"{label}\n\n```\ncode\n```\n")
    assert out == (CodeBlock("code", lang),)
    assert ctx.count == 1


def test_language_label_not_taken_when_block_has_language_or_is_prose() -> None:
    out, ctx = _run(code_labels, "Python\n\n```bash\nls\n```\n\nPython is nice\n\n```\nx\n```\n")
    assert ctx.count == 0 and len(out) == 4


# --------------------------------------------------------------------------- math copies

def test_math_copies_collapse_display_copies_and_fragments() -> None:
    src = (
        "$$y = \\frac{x - \\mu}{\\sigma} \\cdot \\gamma + \\beta$$\n\n"
        "$$y = \\sigma$$\n\n$$x - \\mu$$\n\n$$\\cdot \\gamma + \\beta$$\n\n"
        "where γ and β are learnable parameters.\n"
    )
    out, ctx = _run(math_copies, src)
    assert out[0] == MathBlock("y = \\frac{x - \\mu}{\\sigma} \\cdot \\gamma + \\beta")
    assert out[1] == Paragraph((Text("where γ and β are learnable parameters."),))
    assert len(out) == 2 and ctx.count == 3


def test_math_copies_inline_fragments_bare_tokens_and_quad_repeat() -> None:
    src = (
        "$$P(w_1, \\dots, w_n) = \\prod_{i=1}^n P(w_i | w_{<i}) \\quad "
        "P(w_1, \\dots, w_n) = \\prod_{i=1}^n P(w_i | w_{<i})$$\n\n"
        "$P(w_1$\n\n$, \\dots, w_n$\n\n\\prod\n\nn\n\n$| w_{<i}$\n\n$)$\n\nNext paragraph.\n"
    )
    out, ctx = _run(math_copies, src)
    assert out == (MathBlock("P(w_1, \\dots, w_n) = \\prod_{i=1}^n P(w_i | w_{<i})"),
                   Paragraph((Text("Next paragraph."),)))
    assert ctx.count == 7


def test_math_copies_prefer_the_richer_identical_copy() -> None:
    src = "$$L = \\sum_i \\lambda^2 F_i$$\n\n$$L = \\sum_i \\frac{\\lambda}{2} F_i$$\n\n$2$\n\nΣ\n\nλ\n"
    out, ctx = _run(math_copies, src)
    assert out == (MathBlock("L = \\sum_i \\frac{\\lambda}{2} F_i"),)


def test_math_copies_glyph_copy_after_inline_formula() -> None:
    out, ctx = _run(math_copies, "Scaling factor $1/d_k$\n\n$$1/dk$$\n")
    assert out == (Paragraph((Text("Scaling factor "), Math("1/d_k"))),)
    assert ctx.count == 1


def test_math_copies_keep_a_different_formula_and_note_it() -> None:
    src = "$$a = b + c$$\n\n$$E = mc^2$$\n"
    out, ctx = _run(math_copies, src)
    assert len(out) == 2 and ctx.count == 0
    assert ctx.notes and "E=mc2" in ctx.notes[0]


def test_math_copies_never_drop_prose() -> None:
    src = "$$x + y$$\n\nx\n\nThe sum of x and y.\n"
    out, _ = _run(math_copies, src)
    assert Paragraph((Text("The sum of x and y."),)) in out


def test_math_copies_keep_every_character_of_what_they_drop() -> None:
    """A dropped fragment's characters all occur in the formula that stays."""
    src = "$$MCC = \\frac{TP \\cdot TN}{\\sqrt{(TP+FP)}}$$\n\n$$TP \\cdot TN$$\n\n$+FP$\n"
    out, _ = _run(math_copies, src)
    kept = math_copies.skeleton(out[0].tex)  # type: ignore[union-attr]
    for frag in ("TP \\cdot TN", "+FP"):
        assert math_copies.is_subsequence(math_copies.skeleton(frag), kept)


# --------------------------------------------------------------------------- labels

def test_label_lines_become_list_items_with_bold_label() -> None:
    src = "Intro sentence.\n\nCore idea: Use attention.\n\nWhy it matters: Parallel.\n\nClosing prose that is long enough to be a paragraph of its own, really.\n"
    out, ctx = _run(labels, src)
    assert out[0] == Paragraph((Text("Intro sentence."),))
    assert out[1] == BulletList((
        ListItem((Paragraph((Strong((Text("Core idea:"),)), Text(" Use attention."))),)),
        ListItem((Paragraph((Strong((Text("Why it matters:"),)), Text(" Parallel."))),)),
    ))
    assert ctx.count == 2


def test_label_without_text_takes_following_lines_as_nested_list_and_blocks() -> None:
    src = "Both are stacks of:\n\nAttention layers\n\nFeedforward networks\n\nFormula:\n\n$$y = x$$\n\nNote: done.\n"
    out, _ = _run(labels, src)
    (lst,) = out
    assert isinstance(lst, BulletList)
    first, second, third = lst.items
    assert first.blocks[1] == BulletList((
        ListItem((Paragraph((Text("Attention layers"),)),)),
        ListItem((Paragraph((Text("Feedforward networks"),)),)),
    ))
    assert second.blocks[1] == MathBlock("y = x")
    assert third.blocks[0] == Paragraph((Strong((Text("Note:"),)), Text(" done.")))


def test_label_keeps_the_space_before_code() -> None:
    out, _ = _run(labels, "PyTorch: `nn.Linear` does it.\n")
    assert out == (BulletList((ListItem((Paragraph((
        Strong((Text("PyTorch:"),)), Text(" "), Code("nn.Linear"), Text(" does it."))),)),)),)


@pytest.mark.parametrize("line", [
    "If you have the sentence: the cat sat on the mat.",  # five words before the colon
    "see http://example.com: a link",
    "lowercase start: not a label",
    "Attention score = $x$ usually",
])
def test_not_a_label(line: str) -> None:
    out, ctx = _run(labels, line + "\n")
    assert ctx.count == 0 and isinstance(out[0], Paragraph)


# --------------------------------------------------------------------------- empty items, tex symbols

def test_orphan_dash_items_removed() -> None:
    out, ctx = _run(empty_items, "- **Idea:** cache\n -\n-\n")
    assert out == (BulletList((ListItem((Paragraph((Strong((Text("Idea:"),)), Text(" cache"))),)),)),)
    assert ctx.count == 2


def test_tex_commands_in_prose_become_characters_but_not_in_code_or_math() -> None:
    item = Item(1, (Text("a \\rightarrow b"),), (
        Paragraph((Text("softmax \\rightarrow weights, \\alpha \\leq 1, \\unknown, C:\\to\\x"),
                   Code("\\rightarrow"), Math("\\rightarrow"))),
    ))
    ctx = PassContext()
    ctx.item = item
    out = tex_symbols.run(item, ctx)
    assert out.question == (Text("a → b"),)
    assert out.answer[0] == Paragraph((Text("softmax → weights, α ≤ 1, \\unknown, C:\\to\\x"),
                                       Code("\\rightarrow"), Math("\\rightarrow")))
    assert ctx.count == 4


# --------------------------------------------------------------------------- the whole set

def test_passes_are_registered_in_order_with_descriptions() -> None:
    assert [p.name for p in PASSES] == ["math-copies", "tex-symbols", "split-code", "code-labels",
                                         "empty-items", "labels"]
    assert all(p.description and "``" not in p.description for p in PASSES)


def test_repair_counts_per_pass_and_keeps_words_of_clean_text() -> None:
    clean = "A plain answer.\n\n- a list\n- of things\n\n```python\nx = 1\n```\n"
    doc = Document("t", "s", (Section("S", (_item(clean),)),))
    fixed, results = repair(doc)
    assert all(r.count == 0 for r in results)
    assert fixed == doc


def test_labels_and_code_repairs_keep_all_words(reference_bytes: bytes) -> None:
    """Structure passes move words, never drop them (formula passes drop only copies)."""
    from qabook.readers import transcript

    doc = transcript.read(reference_bytes.decode(), "ref.txt").document
    after_math, _ = repair(doc, skip=frozenset({"tex-symbols", "split-code", "code-labels",
                                                "empty-items", "labels"}))
    fixed, _ = repair(after_math, skip=frozenset({"math-copies", "tex-symbols"}))
    for a, b in zip(after_math.items(), fixed.items()):
        wa = Counter(" ".join(block_words(a.answer)).split())
        wb = Counter(" ".join(block_words(b.answer)).split())
        # a language label ("Python") moves from the text into its code block's language
        moved = Counter(w.casefold() for w in (wa - wb).elements())
        languages = Counter(_languages(b.answer))
        assert not (moved - languages), a.number
        assert not (wb - wa), a.number


def _languages(blocks: tuple[Block, ...]) -> list[str]:
    from qabook.repair.base import map_sequences

    found: list[str] = []

    def collect(seq: tuple[Block, ...]) -> tuple[Block, ...]:
        found.extend(b.language for b in seq if isinstance(b, CodeBlock) and b.language)
        return seq

    map_sequences(blocks, collect)
    return found


def test_math_copies_bare_glyph_lines_in_layout_order() -> None:
    src = ("$$P_i = \\frac{\\exp(\\frac{z_i}{T})}{\\sum_j \\exp(\\frac{z_j}{T})}$$\n\nP_i\n\n"
           "z_j\n)\nexp(T\nz_i\n\n)\n\nLow T gives sharper distributions.\n")
    out, ctx = _run(math_copies, src)
    assert len(out) == 2 and out[1] == Paragraph((Text("Low T gives sharper distributions."),))


def test_math_copies_keep_a_reordered_formula_written_with_dollars() -> None:
    out, ctx = _run(math_copies, "$$a = b + c$$\n\n$$c = a + b$$\n")
    assert len(out) == 2


def test_math_copies_glyph_line_with_words_the_formula_prints() -> None:
    src = ("$F1 = 2 \\cdot \\frac{\\text{precision} \\cdot \\text{recall}}{\\text{precision} + \\text{recall}}$\n\n"
           "precision · recall\n\nPrecision = correct positives / predicted positives.\n")
    out, ctx = _run(math_copies, src)
    assert len(out) == 2 and ctx.count == 1
    assert out[1] == Paragraph((Text("Precision = correct positives / predicted positives."),))
