"""Golden OMML for the formulas people ask about most (tests/golden/omml/NAME.xml).

Each golden is the pretty-printed OMML of one formula, with the TeX in a comment above it. They
were reviewed by eye (printed, and rendered in a DOCX); regenerate only with
``pytest --update-golden`` and review the diff before committing it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from qabook.math import tex_to_omml
from qabook.model import Document, Item, Math, MathBlock, Paragraph, Section, Text
from qabook.writers.docx import write

from tests.ooxml import validate_docx

GOLDEN = Path(__file__).resolve().parent / "golden" / "omml"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"

FORMULAS: dict[str, tuple[str, bool]] = {
    "layernorm": (r"y = \frac{x-\mu}{\sigma}\cdot\gamma+\beta", True),
    "gelu": (r"\text{GELU}(x) = x\cdot\Phi(x)", True),
    "chain_rule": (r"P(w_1,\dots,w_n)=\prod_{i=1}^n P(w_i\mid w_{<i})", True),
    "kl": (r"KL(P \parallel Q) = \sum_i P(i)\log\frac{P(i)}{Q(i)}", True),
    "adam_m": (r"m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t", True),
    "adam_v": (r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2", True),
    "cosine_schedule": (
        r"\eta_t = \eta_{\min} + \frac{1}{2}(\eta_{\max}-\eta_{\min})(1+\cos(\pi t/T))", True),
    "softmax_temperature": (r"P_i = \frac{\exp(z_i/T)}{\sum_j \exp(z_j/T)}", True),
    "length_penalty": (
        r"\text{score} = \frac{\log P}{(5+\text{length})^\alpha/(5+1)^\alpha}", True),
    "perplexity": (r"PP = e^{-\frac{1}{N}\sum_{i=1}^N\log P(w_i)}", True),
    "attention": (
        r"\text{Attention}(Q,K,V)=\text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V", True),
    "multi_head": (
        r"\text{MultiHead}(Q,K,V)=\text{Concat}(\text{head}_1,\dots,\text{head}_h)W^O", True),
    "weight_decay": (r"\lambda\|W\|_2^2", False),
    "ewc": (
        r"L_{\text{total}} = L_{\text{task}} + \sum_i \frac{\lambda}{2} F_i (\theta_i - \theta_i^*)^2",
        True),
    "rlhf_kl": (
        r"L = L_{\text{RLHF}} - \beta D_{\text{KL}}(\pi_{\theta} \parallel \pi_{\text{ref}})", True),
    "f1": (
        r"F1 = 2 \cdot \frac{\text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}",
        False),
    "mcc": (r"MCC = \frac{TP \cdot TN - FP \cdot FN}{\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}}", True),
    "cosine_similarity": (r"\cos(\theta) = \frac{A \cdot B}{\|A\| \|B\|}", True),
    "matrix": (r"W = \begin{pmatrix} w_{11} & w_{12} \\ w_{21} & w_{22} \end{pmatrix}", True),
    "cases": (r"\text{ReLU}(x) = \begin{cases} x & x > 0 \\ 0 & \text{otherwise} \end{cases}", True),
    "accents": (r"\hat{y} = \bar{x} + \tilde{z} + \vec{v} + \dot{a}", False),
    "argmax_limits": (r"\hat{\theta} = \operatorname{argmax}_{\theta} \sum_{i=1}^N \log p(x_i)", True),
    "integral_root": (r"\int_0^1 \sqrt[3]{x}\,dx = \frac{3}{4}", True),
}


def golden_text(tex: str, display: bool) -> str:
    """The golden form of one formula: a comment with the TeX, then the OMML, indented."""
    fragment = tex_to_omml(tex, display)
    root = etree.fromstring(f'<root xmlns:m="{M}">{fragment}</root>')[0]
    etree.cleanup_namespaces(root, top_nsmap={"m": M})
    body = etree.tostring(root, pretty_print=True, encoding="unicode")
    kind = "display" if display else "inline"
    return f"<!-- {kind}: {tex.replace('--', '- -')} -->\n{body}"


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_golden_omml(name: str, update_golden: bool) -> None:
    tex, display = FORMULAS[name]
    path = GOLDEN / f"{name}.xml"
    got = golden_text(tex, display)
    if update_golden:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run pytest --update-golden and review it"
    assert got == path.read_text(encoding="utf-8")


def golden_document() -> Document:
    """One item per golden formula: display ones as blocks, inline ones inside a sentence."""
    items = []
    for number, (name, (tex, display)) in enumerate(FORMULAS.items(), 1):
        block = MathBlock(tex) if display else Paragraph((Text("Inline: "), Math(tex), Text(" end.")))
        items.append(Item(number, (Text(name),), (block,)))
    return Document("Golden formulas", "golden", (Section("Formulas", tuple(items)),))


def test_docx_with_every_golden_formula_validates() -> None:
    buf = io.BytesIO()
    write(golden_document(), buf)
    assert validate_docx(buf.getvalue()) == []


def test_golden_files_are_all_used() -> None:
    names = {p.stem for p in GOLDEN.glob("*.xml")}
    assert names <= set(FORMULAS), names - set(FORMULAS)


def test_the_converter_loads_without_networking_code_and_leaves_the_real_saxutils() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from qabook.math import tex_to_omml\n"
        "assert tex_to_omml(r'\\frac{a}{b}', False).startswith('<m:oMath>')\n"
        "print(sorted(m for m in ('ssl', 'urllib.request', 'http.client', 'xml.sax.saxutils') if m in sys.modules))\n"
        "import xml.sax.saxutils\n"
        "print(hasattr(xml.sax.saxutils, 'escape'), xml.sax.saxutils.unescape('&amp;lt;') == '&lt;')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True True"]


def test_the_converter_loads_without_the_package_version_lookup_which_still_answers() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from qabook.math import tex_to_omml\n"
        "assert tex_to_omml(r'\\frac{a}{b}', False).startswith('<m:oMath>')\n"
        "print('importlib.metadata' in sys.modules, 'email' in sys.modules)\n"
        "import latex2mathml, latex2mathml.converter\n"
        "from importlib import metadata\n"
        "print(latex2mathml.__version__ == metadata.version('latex2mathml'), latex2mathml.metadata is metadata)\n"
        "print(latex2mathml.converter.convert('x').startswith('<math'))\n"
        "try:\n    latex2mathml.missing\nexcept AttributeError:\n    print('AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:4] == ["False False", "True True", "True", "AttributeError"]


def test_a_package_init_that_does_more_runs_as_usual() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from qabook.math import mathml\n"
        "mathml._PACKAGE_INIT = 'something else'\n"
        "assert mathml.tex_to_mathml('x').startswith('<math')\n"
        "print('importlib.metadata' in sys.modules, type(sys.modules['latex2mathml'].__dict__.get('__version__')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[0] == "True <class 'str'>"


def test_the_stand_in_unescape_is_the_standard_one() -> None:
    from xml.sax.saxutils import unescape

    from qabook.math.mathml import _unescape

    entities = {"&quot;": '"', "&apos;": "'"}
    for text in ["a &lt; b &gt; c", "&amp;lt;", "&amp;amp;", "x &quot;y&quot; &apos;z&apos;", "&", "", "&lt&gt;"]:
        assert _unescape(text) == unescape(text)
        assert _unescape(text, entities) == unescape(text, entities)
