"""Formulas as real equations: TeX -> MathML -> OMML.

The path is TeX -> MathML with latex2mathml (:mod:`qabook.math.mathml`, which also repairs what
latex2mathml gets wrong), then MathML -> OMML by qabook's own table of element handlers
(:mod:`qabook.math.omml`, whose docstring says why that mapping is hand-written). Copy damage in the
TeX (doubled backslashes, ``\\(``/``\\)`` leftovers, stray ``$``) is undone first
(:mod:`qabook.math.tex`). MathML is public so HTML and Anki writers can use it too.

Every conversion is cached per ``(tex, display)`` string and raises :class:`MathError` (with a
``reason``) for a formula it cannot convert; callers keep the TeX then.
"""

from __future__ import annotations

from qabook.math.check import check_formulas, iter_formulas
from qabook.math.errors import MathError
from qabook.math.mathml import MATHML_NS, mathml_tree, tex_to_mathml
from qabook.math.omml import OMML_NS, mathml_to_omml, tex_to_omml
from qabook.math.tex import normalize_tex

__all__ = [
    "MATHML_NS",
    "OMML_NS",
    "MathError",
    "check_formulas",
    "iter_formulas",
    "mathml_to_omml",
    "mathml_tree",
    "normalize_tex",
    "tex_to_mathml",
    "tex_to_omml",
]
