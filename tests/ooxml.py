"""Validate the XML parts of a .docx against the ECMA-376 Transitional schemas.

The schemas live in the shared folder (``/work/shared/ooxml-schemas``, or ``$QABOOK_SHARED/ooxml-schemas``)
and are loaded once, lazily. :func:`validate_docx` returns a list of error strings (empty when every
part is valid); :func:`require_schemas` skips the calling test when the schemas are not there.

Loading needs two things the schema files do not do by themselves (see the folder's README):
``wml.xsd`` imports the ``xml:`` namespace without a location, so it is loaded through a small driver
schema that imports ``xml.xsd`` first; and ``opc-coreProperties.xsd`` imports Dublin Core by URL, which
a resolver maps to the local copies (no network).
"""

from __future__ import annotations

import functools
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

_DC_URLS = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": "dc.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": "dcterms.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcmitype.xsd": "dcmitype.xsd",
}

# Schemas the WordprocessingML driver imports, after xml.xsd (namespace -> file under transitional/).
_WML_IMPORTS = (
    ("http://schemas.openxmlformats.org/wordprocessingml/2006/main", "wml.xsd"),
    ("http://schemas.openxmlformats.org/drawingml/2006/picture", "dml-picture.xsd"),
    ("urn:schemas-microsoft-com:vml", "vml-main.xsd"),
    ("urn:schemas-microsoft-com:office:office", "vml-officeDrawing.xsd"),
    ("urn:schemas-microsoft-com:office:word", "vml-wordprocessingDrawing.xsd"),
    (
        "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
        "shared-documentPropertiesExtended.xsd",
    ),
    (
        "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
        "shared-documentPropertiesCustom.xsd",
    ),
)

_OPC_IMPORTS = (
    ("http://schemas.openxmlformats.org/package/2006/content-types", "opc-contentTypes.xsd"),
    ("http://schemas.openxmlformats.org/package/2006/relationships", "opc-relationships.xsd"),
    (
        "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
        "opc-coreProperties.xsd",
    ),
)

_XSD = "http://www.w3.org/2001/XMLSchema"
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def schema_dir() -> Path:
    """Where the schemas are expected (they may be missing)."""
    shared = os.environ.get("QABOOK_SHARED")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return base / "ooxml-schemas"


def require_schemas() -> Path:
    """The schema folder, or skip the calling test when it is absent."""
    folder = schema_dir()
    if not (folder / "transitional" / "wml.xsd").is_file():
        pytest.skip(f"ECMA-376 schemas not found at {folder} (set QABOOK_SHARED)")
    return folder


class _LocalResolver(etree.Resolver):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._folder = folder

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        name = _DC_URLS.get(system_url)
        if name is not None:
            return self.resolve_filename(str(self._folder / name), context)
        return None


def _driver(imports: tuple[tuple[str, str], ...], folder: Path, sub: str) -> bytes:
    lines = [f'<xsd:schema xmlns:xsd="{_XSD}" elementFormDefault="qualified">']
    lines.append(f'<xsd:import namespace="{_XML_NS}" schemaLocation="{(folder / "xml.xsd").as_uri()}"/>')
    for ns, name in imports:
        loc = (folder / sub / name).as_uri() if sub else (folder / name).as_uri()
        lines.append(f'<xsd:import namespace="{ns}" schemaLocation="{loc}"/>')
    lines.append("</xsd:schema>")
    return "\n".join(lines).encode()


def _load(driver: bytes, folder: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalResolver(folder))
    doc = etree.parse(io.BytesIO(driver), parser, base_url=(folder / "driver.xsd").as_uri())
    return etree.XMLSchema(doc)


@functools.cache
def _schemas(folder: Path) -> tuple[etree.XMLSchema, etree.XMLSchema]:
    wml = _load(_driver(_WML_IMPORTS, folder, "transitional"), folder)
    opc = _load(_driver(_OPC_IMPORTS, folder, ""), folder)
    return wml, opc


def _is_opc_part(name: str) -> bool:
    return name == "[Content_Types].xml" or name.endswith(".rels") or name == "docProps/core.xml"


def validate_docx(data: bytes) -> list[str]:
    """Errors found in every XML part of the .docx ``data`` (empty list: all valid)."""
    folder = require_schemas()
    wml, opc = _schemas(folder)
    errors: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if not (name.endswith(".xml") or name.endswith(".rels")):
                continue
            try:
                # huge_tree: a paragraph may hold more than libxml2's default 10 MB per text node
                tree = etree.fromstring(zf.read(name), etree.XMLParser(huge_tree=True))
            except etree.XMLSyntaxError as exc:
                errors.append(f"{name}: not well-formed: {exc}")
                continue
            schema = opc if _is_opc_part(name) else wml
            if not schema.validate(tree):
                for err in schema.error_log:
                    errors.append(f"{name}:{err.line}: {err.message}")
    return errors
