"""Copy damage undone before conversion (qabook.math.tex), and only damage."""

from __future__ import annotations

import pytest

from qabook.math import normalize_tex, tex_to_mathml, tex_to_omml


@pytest.mark.parametrize(
    ("damaged", "fixed"),
    [
        # every backslash doubled (a JSON or string-literal escape of the whole formula)
        (r"\\frac{a}{b} + \\alpha", r"\frac{a}{b} + \alpha"),
        (r"\\sum_{i=1}^n x_i \\\\ y", r"\sum_{i=1}^n x_i \\ y"),
        (r"\\text{GELU}(x)", r"\text{GELU}(x)"),
        # leftovers of \( \) and \[ \] delimiters
        (r"\(h_t\)", "h_t"),
        (r"\[y = f(x)\]", "y = f(x)"),
        (r"\(h_{t-1}", "h_{t-1}"),
        (r"x_t\)", "x_t"),
        # stray dollars, also around other delimiters
        ("$x^2$", "x^2"),
        ("$$E = mc^2$$", "E = mc^2"),
        ("$x", "x"),
        (r"$\(h\)$", "h"),
        # Markdown's escaped star, whitespace a page put in
        (r"a \* b", "a * b"),
        ("\u00a0x\u200b + y ", "x + y"),
    ],
)
def test_copy_damage_is_undone(damaged: str, fixed: str) -> None:
    assert normalize_tex(damaged) == fixed


@pytest.mark.parametrize(
    "tex",
    [
        r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",  # \\ beside single-backslash commands
        r"a \\ b",  # a lone line break says nothing about doubling
        r"x \\ y \\ z",
        r"\$5 + \$6",  # escaped dollars are dollars
        r"x = \$",
        r"\\foo",  # doubled, but \foo is no command: leave it
        r"\{a\}",
        r"\alpha",
    ],
)
def test_what_is_not_damage_is_left_alone(tex: str) -> None:
    assert normalize_tex(tex) == tex


def test_normalised_formulas_convert_like_clean_ones() -> None:
    clean = tex_to_omml(r"\frac{a}{b} + \alpha", True)
    assert tex_to_omml(r"\\frac{a}{b} + \\alpha", True) == clean
    assert tex_to_omml(r"\[\frac{a}{b} + \alpha\]", True) == clean
    assert tex_to_mathml(r"$\(h_t\)$") == tex_to_mathml("h_t")


def test_a_doubled_line_break_in_a_doubled_matrix_is_halved_too() -> None:
    doubled = r"\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}"
    assert normalize_tex(doubled) == r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}"
