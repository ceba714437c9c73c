"""MathML -> OMML: one test per element handler, the row constructs, and schema validity."""

from __future__ import annotations

import io
import typing
import zipfile

import pytest
from lxml import etree

from qabook.math import MathError, mathml_to_omml, tex_to_mathml, tex_to_omml
from qabook.math.omml import HANDLERS

from tests.ooxml import validate_docx

MML = "http://www.w3.org/1998/Math/MathML"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"m": M}


def parse(fragment: str) -> etree._Element:
    """An OMML fragment (``m:`` prefix undeclared, as the writer embeds it) as a tree."""
    return etree.fromstring(f'<root xmlns:m="{M}">{fragment}</root>')[0]


def convert(body: str, display: bool = False) -> etree._Element:
    """``<math>body</math>`` (MathML) converted; returns the ``m:oMath`` element."""
    tree = parse(mathml_to_omml(f'<math xmlns="{MML}">{body}</math>', display))
    return tree if not display else tree.find("m:oMath", NS)


def one(tree: etree._Element, path: str) -> etree._Element:
    found = tree.findall(path, NS)
    assert len(found) == 1, (path, etree.tostring(tree, encoding="unicode"))
    return found[0]


def texts(tree: etree._Element) -> list[str]:
    return [t.text or "" for t in tree.iter(f"{{{M}}}t")]


def val(el: etree._Element, path: str) -> str | None:
    found = el.find(path, NS)
    return None if found is None else found.get(f"{{{M}}}val")


def sty(run: etree._Element) -> str | None:
    return val(run, "m:rPr/m:sty")


# ------------------------------------------------------------------ one case per element
# Each case: MathML body and a check of the OMML. test_every_handler_has_a_case keeps this
# table and HANDLERS in step.


def _mi(t: etree._Element) -> None:
    runs = t.findall("m:r", NS)
    assert [texts(r) for r in runs] == [["x"], ["Φ"], ["R"], ["𝐖"], ["sin"]]
    assert [sty(r) for r in runs] == [None, "p", "p", "p", "p"]
    assert val(runs[2], "m:rPr/m:scr") == "double-struck"


def _mn(t: etree._Element) -> None:
    run = one(t, "m:r")
    assert texts(run) == ["42"] and run.find("m:rPr", NS) is None


def _mo(t: etree._Element) -> None:
    runs = t.findall("m:r", NS)
    assert texts(t) == ["a", "+", "b", "<", "c"]
    assert sty(runs[1]) == "p"
    assert runs[3].find("m:rPr/m:lit", NS) is not None  # LibreOffice would read "<" as syntax


def _mtext(t: etree._Element) -> None:
    run = one(t, "m:r")
    assert texts(run) == ["if x"]
    props = [etree.QName(c).localname for c in run.find("m:rPr", NS)]
    assert props == ["nor"]  # never nor together with sty (pandoc's invalid pair)
    assert run.find("m:t", NS).get("{http://www.w3.org/XML/1998/namespace}space") is None


def _ms(t: etree._Element) -> None:
    assert texts(t) == ["\u201cabc\u201d"]


def _mspace(t: etree._Element) -> None:
    assert texts(t) == ["a", "\u2009", "b", "\u2003", "c"]


def _mglyph(t: etree._Element) -> None:
    assert texts(t) == ["star"]


def _math(t: etree._Element) -> None:
    assert texts(t) == ["x"]


def _mrow(t: etree._Element) -> None:
    d = one(t, "m:d")
    assert val(d, "m:dPr/m:begChr") is None and val(d, "m:dPr/m:endChr") is None  # ( ) defaults
    assert d.find("m:e/m:f", NS) is not None


def _mstyle(t: etree._Element) -> None:
    assert one(t, "m:f") is not None


def _mpadded(t: etree._Element) -> None:
    assert texts(t) == ["x"]


def _merror(t: etree._Element) -> None:
    assert texts(t) == ["oops"]


def _mphantom(t: etree._Element) -> None:
    phant = one(t, "m:phant")
    assert val(phant, "m:phantPr/m:show") == "off" and texts(phant) == ["x"]


def _mfrac(t: etree._Element) -> None:
    fracs = t.findall("m:f", NS)
    assert [val(f, "m:fPr/m:type") for f in fracs] == [None, "noBar", "skw"]
    assert texts(fracs[0].find("m:num", NS)) == ["a"] and texts(fracs[0].find("m:den", NS)) == ["b"]


def _msqrt(t: etree._Element) -> None:
    rad = one(t, "m:rad")
    assert val(rad, "m:radPr/m:degHide") == "on"
    assert list(rad.find("m:deg", NS)) == [] and texts(rad.find("m:e", NS)) == ["x", "+", "1"]


def _mroot(t: etree._Element) -> None:
    rad = one(t, "m:rad")
    assert rad.find("m:radPr", NS) is None
    assert texts(rad.find("m:deg", NS)) == ["3"] and texts(rad.find("m:e", NS)) == ["x"]


def _mfenced(t: etree._Element) -> None:
    d = one(t, "m:d")
    assert val(d, "m:dPr/m:begChr") == "[" and val(d, "m:dPr/m:sepChr") == ";"
    assert val(d, "m:dPr/m:endChr") == "]"
    assert [texts(e) for e in d.findall("m:e", NS)] == [["a"], ["b"]]


def _menclose(t: etree._Element) -> None:
    boxes = t.findall("m:borderBox", NS)
    assert boxes[0].find("m:borderBoxPr", NS) is None  # \boxed: a plain box
    struck = boxes[1].find("m:borderBoxPr", NS)
    assert [etree.QName(c).localname for c in struck] == [
        "hideTop", "hideBot", "hideLeft", "hideRight", "strikeBLTR"]


def _msub(t: etree._Element) -> None:
    s = one(t, "m:sSub")
    assert texts(s.find("m:e", NS)) == ["x"] and texts(s.find("m:sub", NS)) == ["i"]


def _msup(t: etree._Element) -> None:
    s = one(t, "m:sSup")
    assert texts(s.find("m:e", NS)) == ["e"] and texts(s.find("m:sup", NS)) == ["−", "x"]


def _msubsup(t: etree._Element) -> None:
    s = one(t, "m:sSubSup")
    assert [etree.QName(c).localname for c in s] == ["e", "sub", "sup"]


def _munder(t: etree._Element) -> None:
    assert texts(one(t, "m:limLow/m:lim")) == ["k"]
    assert val(one(t, "m:bar"), "m:barPr/m:pos") == "bot"
    group = one(t, "m:groupChr")
    assert val(group, "m:groupChrPr/m:chr") == "\u23df" and val(group, "m:groupChrPr/m:pos") is None


def _mover(t: etree._Element) -> None:
    accents = [val(a, "m:accPr/m:chr") for a in t.findall("m:acc", NS)]
    assert accents == ["\u0302", "\u0305", "\u0303", "\u20d7", "\u0307"]
    assert val(one(t, "m:bar"), "m:barPr/m:pos") == "top"
    group = one(t, "m:groupChr")
    assert val(group, "m:groupChrPr/m:pos") == "top" and val(group, "m:groupChrPr/m:vertJc") == "bot"
    assert "".join(texts(one(t, "m:limUpp/m:lim"))) == "def"


def _munderover(t: etree._Element) -> None:
    upp = one(t, "m:limUpp")
    assert texts(upp.find("m:lim", NS)) == ["b"]
    assert texts(upp.find("m:e/m:limLow/m:lim", NS)) == ["a"]


def _mmultiscripts(t: etree._Element) -> None:
    pre = one(t, "m:sPre")
    assert texts(pre.find("m:sub", NS)) == ["6"] and texts(pre.find("m:sup", NS)) == ["14"]
    assert pre.find("m:e/m:sSubSup", NS) is not None


def _mtable(t: etree._Element) -> None:
    matrix = one(t, "m:d/m:e/m:m")
    rows = matrix.findall("m:mr", NS)
    assert [[texts(e) for e in r.findall("m:e", NS)] for r in rows] == [[["a"], ["b"]], [["c"], []]]
    mcs = matrix.findall("m:mPr/m:mcs/m:mc/m:mcPr", NS)
    # count before mcJc (schema order; pandoc writes them the other way round)
    assert [[etree.QName(c).localname for c in mc] for mc in mcs] == [["count", "mcJc"]] * 2
    assert [val(mc, "m:mcJc") for mc in mcs] == ["left", "center"]


def _mlabeledtr(t: etree._Element) -> None:
    assert [texts(e) for e in t.findall("m:m/m:mr/m:e", NS)] == [["x"]]  # the label is dropped


def _semantics(t: etree._Element) -> None:
    assert texts(t) == ["x"]  # the TeX annotation is not shown


def _maction(t: etree._Element) -> None:
    assert texts(t) == ["shown"]


CASES: dict[str, tuple[str, typing.Callable[[etree._Element], None]]] = {}


def _case(name: str, body: str, check: typing.Callable[[etree._Element], None]) -> None:
    CASES[name] = (body, check)


_case("mi", "<mi>x</mi><mi>Φ</mi><mi mathvariant='double-struck'>R</mi><mi>𝐖</mi><mi>sin</mi>", _mi)
_case("mn", "<mn>42</mn>", _mn)
_case("mo", "<mi>a</mi><mo>+</mo><mi>b</mi><mo>&lt;</mo><mi>c</mi>", _mo)
_case("mtext", "<mtext>if&#xa0;x</mtext>", _mtext)
_case("ms", "<ms>abc</ms>", _ms)
_case("mspace", "<mi>a</mi><mspace width='0.167em'/><mi>b</mi><mspace width='1em'/><mi>c</mi>", _mspace)
_case("mglyph", "<mglyph src='star.png' alt='star'/>", _mglyph)
_case("math", "<mi>x</mi>", _math)
_case("mrow", "<mrow><mo fence='true' stretchy='true'>(</mo><mfrac><mi>a</mi><mi>b</mi></mfrac>"
      "<mo fence='true' stretchy='true'>)</mo></mrow>", _mrow)
_case("mstyle", "<mstyle displaystyle='true'><mfrac><mn>1</mn><mn>2</mn></mfrac></mstyle>", _mstyle)
_case("mpadded", "<mpadded width='0'><mi>x</mi></mpadded>", _mpadded)
_case("merror", "<merror><mtext>oops</mtext></merror>", _merror)
_case("mphantom", "<mphantom><mi>x</mi></mphantom>", _mphantom)
_case("mfrac", "<mfrac><mi>a</mi><mi>b</mi></mfrac><mfrac linethickness='0'><mi>n</mi><mi>k</mi></mfrac>"
      "<mfrac bevelled='true'><mn>1</mn><mn>2</mn></mfrac>", _mfrac)
_case("msqrt", "<msqrt><mi>x</mi><mo>+</mo><mn>1</mn></msqrt>", _msqrt)
_case("mroot", "<mroot><mi>x</mi><mn>3</mn></mroot>", _mroot)
_case("mfenced", "<mfenced open='[' close=']' separators=';'><mi>a</mi><mi>b</mi></mfenced>", _mfenced)
_case("menclose", "<menclose notation='box'><mi>x</mi></menclose>"
      "<menclose notation='updiagonalstrike'><mi>y</mi></menclose>", _menclose)
_case("msub", "<msub><mi>x</mi><mi>i</mi></msub>", _msub)
_case("msup", "<msup><mi>e</mi><mrow><mo>−</mo><mi>x</mi></mrow></msup>", _msup)
_case("msubsup", "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>", _msubsup)
_case("munder", "<munder><mi>x</mi><mi>k</mi></munder><munder><mi>y</mi><mo>―</mo></munder>"
      "<munder><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mo>⏟</mo></munder>", _munder)
_case("mover", "<mover accent='true'><mi>x</mi><mo>^</mo></mover><mover><mi>y</mi><mo>¯</mo></mover>"
      "<mover><mi>z</mi><mo>~</mo></mover><mover><mi>v</mi><mo>→</mo></mover>"
      "<mover><mi>a</mi><mo>˙</mo></mover><mover><mrow><mi>A</mi><mi>B</mi></mrow><mo>―</mo></mover>"
      "<mover><mi>n</mi><mo>⏞</mo></mover>"
      "<mover><mo>=</mo><mrow><mi>d</mi><mi>e</mi><mi>f</mi></mrow></mover>", _mover)
_case("munderover", "<munderover><mi>x</mi><mi>a</mi><mi>b</mi></munderover>", _munderover)
_case("mmultiscripts", "<mmultiscripts><mi>C</mi><mi>i</mi><mi>j</mi><mprescripts/><mn>6</mn><mn>14</mn>"
      "</mmultiscripts>", _mmultiscripts)
_case("mprescripts", "<mmultiscripts><mi>C</mi><none/><none/><mprescripts/><mn>6</mn><mn>14</mn>"
      "</mmultiscripts>", lambda t: _check_prescripts(t))
_case("none", "<mmultiscripts><mi>C</mi><mi>i</mi><none/></mmultiscripts>",
      lambda t: _check_none(t))
_case("mtable", "<mo>(</mo><mtable><mtr><mtd columnalign='left'><mi>a</mi></mtd><mtd><mi>b</mi></mtd></mtr>"
      "<mtr><mtd><mi>c</mi></mtd></mtr></mtable><mo>)</mo>", _mtable)
_case("mtr", "<mtable><mtr><mtd><mi>x</mi></mtd></mtr></mtable>",
      lambda t: _check_single_cell(t))
_case("mtd", "<mtable><mtr><mtd><mi>x</mi></mtd></mtr></mtable>",
      lambda t: _check_single_cell(t))
_case("maligngroup", "<mtable><mtr><mtd><maligngroup/><mi>x</mi></mtd></mtr></mtable>",
      lambda t: _check_single_cell(t))
_case("malignmark", "<mtable><mtr><mtd><mi>x</mi><malignmark/></mtd></mtr></mtable>",
      lambda t: _check_single_cell(t))
_case("mlabeledtr", "<mtable><mlabeledtr><mtd><mtext>(1)</mtext></mtd><mtd><mi>x</mi></mtd></mlabeledtr>"
      "</mtable>", _mlabeledtr)
_case("semantics", "<semantics><mi>x</mi><annotation encoding='application/x-tex'>x</annotation>"
      "</semantics>", _semantics)
_case("annotation", "<semantics><mi>x</mi><annotation encoding='application/x-tex'>x</annotation>"
      "</semantics>", _semantics)
_case("annotation-xml", "<semantics><mi>x</mi><annotation-xml><mi>y</mi></annotation-xml></semantics>",
      _semantics)
_case("maction", "<maction actiontype='toggle'><mi>shown</mi><mi>hidden</mi></maction>", _maction)


def _check_prescripts(t: etree._Element) -> None:
    pre = one(t, "m:sPre")
    assert texts(pre.find("m:e", NS)) == ["C"]


def _check_none(t: etree._Element) -> None:
    s = one(t, "m:sSubSup")
    assert texts(s.find("m:sub", NS)) == ["i"] and texts(s.find("m:sup", NS)) == []


def _check_single_cell(t: etree._Element) -> None:
    assert [texts(e) for e in t.findall("m:m/m:mr/m:e", NS)] == [["x"]]


def test_every_handler_has_a_case() -> None:
    assert set(CASES) == set(HANDLERS)


@pytest.mark.parametrize("element", sorted(CASES))
def test_element(element: str) -> None:
    body, check = CASES[element]
    check(convert(body))


@pytest.mark.parametrize("element", ["mblink", "mstack", "mlongdiv"])
def test_unknown_element_is_an_error(element: str) -> None:
    with pytest.raises(MathError, match=element):
        mathml_to_omml(f'<math xmlns="{MML}"><{element}/></math>')


# ------------------------------------------------------------------ row constructs (from TeX)


def tex(source: str, display: bool = False) -> etree._Element:
    tree = parse(tex_to_omml(source, display))
    return tree if not display else tree.find("m:oMath", NS)


def test_sum_with_limits_is_nary_with_its_operand() -> None:
    t = tex(r"\sum_{i=1}^{n} x_i + y", display=True)
    nary = one(t, "m:nary")
    assert val(nary, "m:naryPr/m:chr") == "∑" and val(nary, "m:naryPr/m:limLoc") == "undOvr"
    assert texts(nary.find("m:sub", NS)) == ["i", "=", "1"] and texts(nary.find("m:sup", NS)) == ["n"]
    assert texts(nary.find("m:e", NS)) == ["x", "i"]  # the operand stops at +
    assert texts(t)[-2:] == ["+", "y"]
    inline = one(tex(r"\sum_{i=1}^{n} x_i"), "m:nary")
    assert val(inline, "m:naryPr/m:limLoc") == "subSup"


def test_operand_runs_over_brackets_and_products() -> None:
    t = tex(r"\sum_i \frac{\lambda}{2} F_i (\theta_i - \theta_i^*)^2 = L")
    e = one(t, "m:nary/m:e")
    assert e.find("m:f", NS) is not None and e.find("m:sSup/m:e/m:d", NS) is not None
    assert texts(t)[-2:] == ["=", "L"]


def test_bare_integral_and_product_hide_their_limits() -> None:
    nary = one(tex(r"\int f"), "m:nary")
    assert val(nary, "m:naryPr/m:subHide") == "on" and val(nary, "m:naryPr/m:supHide") == "on"
    prod = one(tex(r"\prod_{i=1}^n P"), "m:nary")
    assert val(prod, "m:naryPr/m:chr") == "∏"
    props = [etree.QName(c).localname for c in prod.find("m:naryPr", NS)]
    assert props == ["chr", "limLoc"]


def test_functions_are_upright_func_with_their_argument() -> None:
    t = tex(r"\log \frac{P}{Q} + \cos(\pi t) + \exp x")
    funcs = t.findall("m:func", NS)
    assert [texts(f.find("m:fName", NS)) for f in funcs] == [["log"], ["cos"], ["exp"]]
    assert all(sty(f.find("m:fName/m:r", NS)) == "p" for f in funcs)
    assert funcs[0].find("m:e/m:f", NS) is not None
    assert funcs[1].find("m:e/m:d", NS) is not None
    assert texts(funcs[2].find("m:e", NS)) == ["x"]


def test_operatorname_and_limits_under_in_display_only() -> None:
    display = tex(r"\operatorname{argmax}_x f(x)", display=True)
    low = one(display, "m:func/m:fName/m:limLow")
    assert texts(low.find("m:e", NS)) == ["argmax"] and texts(low.find("m:lim", NS)) == ["x"]
    inline = tex(r"\max_x f(x)")
    assert one(inline, "m:func/m:fName/m:sSub") is not None


def test_function_without_argument_is_an_upright_run() -> None:
    t = tex(r"\eta_{\min} = \log")
    assert t.find(".//m:func", NS) is None
    runs = {tuple(texts(r)): sty(r) for r in t.iter(f"{{{M}}}r")}
    assert runs[("min",)] == "p" and runs[("log",)] == "p"


def test_norm_is_a_delimiter_with_scripts_on_the_group() -> None:
    t = tex(r"\lambda\|W\|_2^2")
    s = one(t, "m:sSubSup")
    d = s.find("m:e/m:d", NS)
    assert val(d, "m:dPr/m:begChr") == "‖" and val(d, "m:dPr/m:endChr") == "‖"
    assert texts(d) == ["W"]
    assert texts(s.find("m:sub", NS)) == ["2"] and texts(s.find("m:sup", NS)) == ["2"]
    two = tex(r"\|A\| \|B\|").findall("m:d", NS)
    assert [texts(d) for d in two] == [["A"], ["B"]]


def test_absolute_value_pairs_but_a_lone_bar_is_mid() -> None:
    d = one(tex(r"|x| + 1"), "m:d")
    assert val(d, "m:dPr/m:begChr") == "|" and texts(d) == ["x"]
    given = tex(r"P(w_i | w_{<i})")
    inner = one(given, "m:d/m:e")
    assert "∣" in texts(inner) and "|" not in texts(inner)


def test_left_right_grow_and_keep_missing_delimiters() -> None:
    d = one(tex(r"\left\{ x \right."), "m:d")
    assert val(d, "m:dPr/m:begChr") == "{" and val(d, "m:dPr/m:endChr") == ""
    mid = one(tex(r"\left( a \middle| b \right)"), "m:d")
    assert val(mid, "m:dPr/m:sepChr") == "|" and len(mid.findall("m:e", NS)) == 2


def test_cases_and_aligned() -> None:
    cases = tex(r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}")
    ds = cases.findall("m:d", NS)
    assert [val(d, "m:dPr/m:begChr") for d in ds] == [None, "{"]  # f(x), then the brace
    d = ds[1]
    assert val(d, "m:dPr/m:endChr") == ""
    assert len(d.findall("m:e/m:m/m:mr", NS)) == 2
    aligned = tex(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
    m = aligned.find(".//m:m", NS)
    assert [val(mc, "m:mcJc") for mc in m.findall("m:mPr/m:mcs/m:mc/m:mcPr", NS)] == ["right", "left"]
    assert "&" not in "".join(texts(aligned))


def test_symbols_come_through_as_characters() -> None:
    source = (r"a \cdot b \odot c \parallel d \approx e \leq f \rightarrow g \nabla h \sim i "
              r"\propto j \in k \infty")
    joined = "".join(texts(tex(source)))
    for char in "⋅⊙∥≈≤→∇∼∝∈∞":
        if char == "⋅":
            assert "·" in joined or "⋅" in joined
        else:
            assert char in joined, char


def test_text_mathrm_and_upright_names() -> None:
    t = tex(r"L_{\text{total}} + \mathrm{d}x + \mathrm{KL}")
    runs = list(t.iter(f"{{{M}}}r"))
    by_text = {"".join(texts(r)): r for r in runs}
    assert by_text["total"].find("m:rPr/m:nor", NS) is not None
    assert sty(by_text["d"]) == "p" and sty(by_text["KL"]) == "p"
    assert sty(by_text["x"]) is None  # identifiers stay italic (Word's default)


def test_text_escapes_are_resolved() -> None:
    assert "# correct" in "".join(texts(tex(r"\text{\# correct}")))


def test_leading_operator_is_literal() -> None:
    run = tex(r"= W + A").find("m:r", NS)
    assert [etree.QName(c).localname for c in run.find("m:rPr", NS)] == ["lit", "sty"]


def test_display_is_an_omath_para() -> None:
    para = parse(tex_to_omml("x", display=True))
    assert etree.QName(para).localname == "oMathPara"
    assert val(para, "m:oMathParaPr/m:jc") == "center"
    assert len(para.findall("m:oMath", NS)) == 1
    assert etree.QName(parse(tex_to_omml("x"))).localname == "oMath"


@pytest.mark.parametrize("bad", [r"\frac{a}", r"x^", r"\left( x", r"\foo x", r"\text{\textbf{x}}", "",
                                 "\\"])
def test_unconvertible_formulas_raise_math_error_with_a_reason(bad: str) -> None:
    with pytest.raises(MathError) as info:
        tex_to_omml(bad)
    assert info.value.reason
    with pytest.raises(MathError):
        tex_to_mathml(bad)


def test_mathml_is_escaped_and_cached() -> None:
    mathml = tex_to_mathml(r"\text{a<b} < c", display=True)
    root = etree.fromstring(mathml)
    assert root.tag == f"{{{MML}}}math" and root.get("display") == "block"
    assert tex_to_mathml(r"\text{a<b} < c", display=True) is mathml


def test_same_input_same_output() -> None:
    source = r"\text{Attention}(Q,K,V)=\text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"
    from qabook.math import mathml as mathml_module
    from qabook.math import omml as omml_module

    first = tex_to_omml(source, True)
    omml_module.cache_clear()
    mathml_module.cache_clear()
    assert tex_to_omml(source, True) == first


# ------------------------------------------------------------------ schema


def _docx_with(fragments: list[str]) -> bytes:
    body = "".join(
        f"<w:p>{f}</w:p>" if f.startswith("<m:oMathPara") else f"<w:p><w:r><w:t>x</w:t></w:r>{f}</w:p>"
        for f in fragments
    )
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<w:document xmlns:w="{W}" xmlns:m="{M}"><w:body>{body}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", xml)
    return buf.getvalue()


def test_every_element_case_validates_against_shared_math_xsd() -> None:
    fragments = []
    for body, _ in CASES.values():
        fragments.append(mathml_to_omml(f'<math xmlns="{MML}">{body}</math>'))
        fragments.append(mathml_to_omml(f'<math xmlns="{MML}">{body}</math>', display=True))
    assert validate_docx(_docx_with(fragments)) == []


def test_tex_constructs_validate_against_shared_math_xsd() -> None:
    sources = [
        r"\sum_{i=1}^{n} x_i", r"\int_0^1 f\,dx", r"\log_2 x", r"\max_x f(x)", r"\lim_{n\to\infty} a_n",
        r"\lambda\|W\|_2^2", r"\left\{ x \right.", r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
        r"\begin{aligned} a &= b \\ c &= d \end{aligned}", r"\hat{x}\bar{y}\tilde{z}\vec{v}\dot{a}",
        r"\overline{AB}\underline{x}\underbrace{a+b}_{n}\overbrace{c}^{m}", r"\sqrt[3]{x}\binom{n}{k}",
        r"\boxed{x}\cancel{y}\phantom{z}", r"\mathbb{R}\mathcal{L}\mathbf{W}\boldsymbol{\theta}",
        r"= \text{a} \# \% \& < |", r"{}^{14}C", r"a\,b\quad c\;d\!e",
    ]
    fragments = [tex_to_omml(s, d) for s in sources for d in (False, True)]
    assert validate_docx(_docx_with(fragments)) == []
