"""GeoReport v2's two formats: every document as JSON or as XML with the spec's element names,
and its error format (a list of {code, description})."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# The element name of one item of each list in the spec's XML documents.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


# Characters XML 1.0 cannot carry at all, escaped or not: a stray control character in a
# citizen's text must not make the whole document unreadable for a client.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """`value` (a list or a dict) under the element `root`, UTF-8 with its declaration."""
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """The document in the format asked for: `root` names the XML root (a list's JSON is the
    bare array, as the spec's examples show)."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode()
    return Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(fmt: str, status: int, description: str) -> Response:
    return respond(fmt, "errors", [{"code": status, "description": description}], status)
