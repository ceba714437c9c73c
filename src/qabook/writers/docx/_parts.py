"""The parts of the package around ``word/document.xml``.

Fixed parts are constants; the parts that depend on what the body used (hyperlink relationships,
list numbering) are built from the writer state after the body has been streamed. The bundled
reference parts (styles, settings, font table, web settings) are read from package data.
"""

from __future__ import annotations

import datetime
import functools
from importlib import resources

from qabook.writers.docx._xml import PKG_REL_NS, R_NS, W_NS, XML_DECL, esc

# ------------------------------------------------------------------ page geometry (twips)

PAGE_W = 11906  # A4
PAGE_H = 16838
MARGIN = 1247  # 2.2 cm
TEXT_WIDTH = PAGE_W - 2 * MARGIN

# ------------------------------------------------------------------ reference parts

REFERENCE_PARTS = ("styles.xml", "settings.xml", "fontTable.xml", "webSettings.xml")


@functools.cache
def reference_part(name: str) -> bytes:
    """The bytes of a bundled reference part (``reference/<name>``)."""
    return (resources.files("qabook.writers.docx") / "reference" / name).read_bytes()


# ------------------------------------------------------------------ relationships

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# The document's fixed relationships; hyperlinks get rId7, rId8, ... in document order.
FIXED_DOC_RELS = (
    ("rId1", f"{_REL}/styles", "styles.xml"),
    ("rId2", f"{_REL}/settings", "settings.xml"),
    ("rId3", f"{_REL}/fontTable", "fontTable.xml"),
    ("rId4", f"{_REL}/webSettings", "webSettings.xml"),
    ("rId5", f"{_REL}/numbering", "numbering.xml"),
    ("rId6", f"{_REL}/footer", "footer1.xml"),
)
FOOTER_RID = "rId6"
FIRST_LINK_RID = 7
HYPERLINK_TYPE = f"{_REL}/hyperlink"

ROOT_RELS = (
    XML_DECL
    + f'<Relationships xmlns="{PKG_REL_NS}">'
    + f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
    + '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    + 'metadata/core-properties" Target="docProps/core.xml"/>'
    + f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    + "</Relationships>"
)


def document_rels(links: dict[str, str]) -> str:
    """``word/_rels/document.xml.rels``: the fixed parts, then one external rel per link target.

    ``links`` maps a target to its rId, in the order the body first used each target.
    """
    parts = [XML_DECL, f'<Relationships xmlns="{PKG_REL_NS}">']
    for rid, rtype, target in FIXED_DOC_RELS:
        parts.append(f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"/>')
    for target, rid in links.items():
        parts.append(
            f'<Relationship Id="{rid}" Type="{HYPERLINK_TYPE}" Target="{esc(target)}" '
            'TargetMode="External"/>'
        )
    parts.append("</Relationships>")
    return "".join(parts)


# ------------------------------------------------------------------ content types

_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml"

CONTENT_TYPES = (
    XML_DECL
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    + '<Default Extension="xml" ContentType="application/xml"/>'
    + f'<Override PartName="/word/document.xml" ContentType="{_WML}.document.main+xml"/>'
    + f'<Override PartName="/word/numbering.xml" ContentType="{_WML}.numbering+xml"/>'
    + f'<Override PartName="/word/styles.xml" ContentType="{_WML}.styles+xml"/>'
    + f'<Override PartName="/word/settings.xml" ContentType="{_WML}.settings+xml"/>'
    + f'<Override PartName="/word/fontTable.xml" ContentType="{_WML}.fontTable+xml"/>'
    + f'<Override PartName="/word/webSettings.xml" ContentType="{_WML}.webSettings+xml"/>'
    + f'<Override PartName="/word/footer1.xml" ContentType="{_WML}.footer+xml"/>'
    + '<Override PartName="/docProps/core.xml" '
    + 'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    + '<Override PartName="/docProps/app.xml" '
    + 'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    + "</Types>"
)

# ------------------------------------------------------------------ document properties


def core_xml(title: str, date: datetime.date | None) -> str:
    """``docProps/core.xml``: title, creator, and created/modified only when a date is given."""
    parts = [
        XML_DECL,
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        f"<dc:title>{esc(title)}</dc:title>",
        "<dc:creator>qabook</dc:creator>",
    ]
    if date is not None:
        stamp = f"{date.isoformat()}T00:00:00Z"
        parts.append(f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>')
        parts.append(f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>')
    parts.append("</cp:coreProperties>")
    return "".join(parts)


APP_XML = (
    XML_DECL
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    + 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    + "<Application>qabook</Application>"
    + "</Properties>"
)

# ------------------------------------------------------------------ footer

FOOTER_XML = (
    XML_DECL
    + f'<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}">'
    + '<w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="center"/></w:pPr>'
    + '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    + '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
    + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
    + "<w:r><w:t>1</w:t></w:r>"
    + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    + "</w:p></w:ftr>"
)

SECT_PR = (
    "<w:sectPr>"
    f'<w:footerReference w:type="default" r:id="{FOOTER_RID}"/>'
    f'<w:pgSz w:w="{PAGE_W}" w:h="{PAGE_H}"/>'
    f'<w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{MARGIN}" w:left="{MARGIN}" '
    'w:header="709" w:footer="624" w:gutter="0"/>'
    '<w:cols w:space="708"/>'
    "<w:titlePg/>"
    '<w:docGrid w:linePitch="360"/>'
    "</w:sectPr>"
)
"""One section for the whole document; ``titlePg`` with no first-page footer leaves the title
page without a page number."""

# ------------------------------------------------------------------ numbering

BULLET_NUM_ID = 1
"""Every bullet list shares one ``w:num`` (bullets do not count)."""
_BULLET_ABSTRACT_ID = 0

LIST_MARKER_INDENT = 227
"""Where a top-level list's marker sits, from the left of the text around it (0.4 cm)."""
BULLET_HANG = 284
"""Marker-to-text distance for bullets (0.5 cm)."""
NESTED_STEP = 360
"""Indent step per level in the numbering definitions (used only when direct indents are removed)."""

# (glyph, font) per level, as Word's own bullet lists do: Symbol dot, Courier New "o", Wingdings square.
_BULLETS = (("\uf0b7", "Symbol"), ("o", "Courier New"), ("\uf0a7", "Wingdings"))


def ordered_hang(digits: int) -> int:
    """Marker-to-text distance for a numbered list whose widest number has ``digits`` digits.

    Wide enough for the digits and the period at 11 pt plus a gap, so "100." or "370." still
    fits before the text and the tab after the number does not jump to the next default stop.
    """
    return max(360, 230 + 115 * digits)


def _level_ind(ilvl: int, hang: int) -> str:
    left = LIST_MARKER_INDENT + NESTED_STEP * ilvl + hang
    return f'<w:pPr><w:ind w:left="{left}" w:hanging="{hang}"/></w:pPr>'


def _bullet_abstract() -> str:
    parts = [f'<w:abstractNum w:abstractNumId="{_BULLET_ABSTRACT_ID}">', '<w:multiLevelType w:val="hybridMultilevel"/>']
    for ilvl in range(9):
        glyph, font = _BULLETS[ilvl % 3]
        parts.append(
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="bullet"/>'
            f'<w:lvlText w:val="{glyph}"/><w:lvlJc w:val="left"/>{_level_ind(ilvl, BULLET_HANG)}'
            f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:hint="default"/></w:rPr></w:lvl>'
        )
    parts.append("</w:abstractNum>")
    return "".join(parts)


def _ordered_abstract(abstract_id: int, digits: int) -> str:
    hang = ordered_hang(digits)
    parts = [f'<w:abstractNum w:abstractNumId="{abstract_id}">', '<w:multiLevelType w:val="hybridMultilevel"/>']
    for ilvl in range(9):
        parts.append(
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            f'<w:lvlText w:val="%{ilvl + 1}."/><w:lvlJc w:val="left"/>{_level_ind(ilvl, hang)}</w:lvl>'
        )
    parts.append("</w:abstractNum>")
    return "".join(parts)


def numbering_xml(widths: dict[int, int], ordered: list[tuple[int, int, int]]) -> str:
    """``word/numbering.xml``.

    ``widths`` maps a digit count to the id of its ordered abstractNum (ids 1, 2, ... in first-use
    order); ``ordered`` holds ``(abstractNumId, ilvl, start)`` for each ordered list in document
    order, which become numIds 2, 3, ... (numId 1 is the shared bullet list).
    """
    parts = [XML_DECL, f'<w:numbering xmlns:w="{W_NS}">', _bullet_abstract()]
    for digits, abstract_id in sorted(widths.items(), key=lambda kv: kv[1]):
        parts.append(_ordered_abstract(abstract_id, digits))
    parts.append(
        f'<w:num w:numId="{BULLET_NUM_ID}"><w:abstractNumId w:val="{_BULLET_ABSTRACT_ID}"/></w:num>'
    )
    for index, (abstract_id, ilvl, start) in enumerate(ordered):
        parts.append(
            f'<w:num w:numId="{BULLET_NUM_ID + 1 + index}"><w:abstractNumId w:val="{abstract_id}"/>'
            f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride></w:num>'
        )
    parts.append("</w:numbering>")
    return "".join(parts)
