r"""TeX commands outside math (``\rightarrow``) become the characters they name.

A formula's delimiters are often lost in a copy while its commands stay in the prose::

    Normalize with softmax \rightarrow gives weights   ->   Normalize with softmax → gives weights

Only plain text is touched (never code or formulas), and only commands in the table below that
are not followed by another letter (nor part of a path such as ``C:\\to``); anything else is left as written.
"""

from __future__ import annotations

import re

from qabook.model import Item
from qabook.repair.base import PassContext, map_text

NAME = "tex-symbols"

SYMBOLS: dict[str, str] = {
    "rightarrow": "→", "to": "→", "leftarrow": "←", "gets": "←", "leftrightarrow": "↔",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔", "implies": "⟹", "iff": "⟺",
    "longrightarrow": "⟶", "mapsto": "↦", "uparrow": "↑", "downarrow": "↓",
    "times": "×", "cdot": "·", "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "•", "odot": "⊙", "oplus": "⊕", "otimes": "⊗",
    "approx": "≈", "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "ll": "≪", "gg": "≫",
    "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫",
    "sqrt": "√", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "supset": "⊃",
    "cup": "∪", "cap": "∩", "emptyset": "∅", "forall": "∀", "exists": "∃", "neg": "¬",
    "land": "∧", "lor": "∨", "mid": "∣", "parallel": "∥", "perp": "⊥", "angle": "∠",
    "ldots": "…", "dots": "…", "cdots": "⋯", "degree": "°",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ",
    "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}

# not after a word character, ":" or "\\", so Windows paths (C:\\to\\x) stay as written
_COMMAND_RE = re.compile(r"(?<![\w:\\])\\([A-Za-z]+)(?![A-Za-z])")


def run(item: Item, ctx: PassContext) -> Item:
    def fix(text: str) -> str:
        if "\\" not in text:
            return text

        def sub(m: re.Match[str]) -> str:
            char = SYMBOLS.get(m.group(1))
            if char is None:
                return m.group(0)
            ctx.count += 1
            return char

        return _COMMAND_RE.sub(sub, text)

    return map_text(item, fix)
