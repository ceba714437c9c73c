"""XML text helpers shared by every part the DOCX writer produces.

:func:`esc` is the one place where text from the model becomes XML character data or an
attribute value: it drops what XML 1.0 cannot carry at all and escapes the markup characters.
"""

from __future__ import annotations

import re

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Characters XML 1.0 forbids (C0 controls other than \t \n \r, lone surrogates, U+FFFE/U+FFFF).
# Lone surrogates would also make the UTF-8 encoder fail, so they go too.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: str) -> str:
    """``text`` made safe as XML character data *and* as a double-quoted attribute value.

    Characters XML 1.0 forbids are removed; ``& < > "`` become entities. Tabs, newlines and
    carriage returns are kept (the run writer turns them into ``w:tab`` / ``w:br`` first).
    """
    # printable text holds no control character, surrogate or non-character (a quick test in C)
    if not text.isprintable() and _FORBIDDEN.search(text) is not None:
        text = _FORBIDDEN.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text
