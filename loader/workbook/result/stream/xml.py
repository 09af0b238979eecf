"""Small XML parts as lxml trees: parsed safely, edited as elements, written back with their own prolog.

A part keeps its namespace prefixes (lxml writes each element with the prefix in scope for its
namespace) and everything pbload does not change; a new element whose namespace is not declared
where it goes gets its own declaration, so an edited part is always well-formed and
namespace-correct. Only UTF-8 parts are taken (what every spreadsheet program writes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from loader.workbook.result.stream.refusals import Unsupported

# No entities resolved, no network, no DTD: a part is data, never instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml\b[^>]*\?>\s*)?")
Element = Any  # lxml.etree._Element (lxml ships no type information)


@dataclass
class Part:
    """A parsed part: the bytes before its root (the XML declaration as written) and its tree."""

    prolog: bytes
    root: Element

    def render(self) -> bytes:
        return self.prolog + etree.tostring(self.root.getroottree(), encoding="UTF-8")


def parse_part(data: bytes, what: str) -> Part:
    """Parse a small part; anything that is not well-formed UTF-8 XML is `Unsupported`."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise Unsupported(f"{what} is not well-formed XML: {exc}") from None
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    if encoding not in ("UTF-8", "UTF8"):
        raise Unsupported(f"{what} is not UTF-8")
    prolog = _PROLOG.match(data)
    return Part(prolog.group(0) if prolog else b"", root)


def local(element: Element) -> str:
    """An element's name without its namespace ('' for a comment or processing instruction)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def kids(parent: Element, name: str) -> list[Element]:
    """The children of `parent` called `name` (in any namespace)."""
    return [k for k in parent if local(k) == name]


def first(parent: Element, name: str) -> Element | None:
    found = kids(parent, name)
    return found[0] if found else None


def new_child(
    parent: Element, name: str, attrib: dict[str, str] | None = None, text: str | None = None
) -> Element:
    """A new last child of `parent` in `parent`'s namespace (written with the prefix in scope there)."""
    ns = etree.QName(parent).namespace
    element = etree.SubElement(parent, f"{{{ns}}}{name}" if ns else name)
    for key, value in (attrib or {}).items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def place(parent: Element, element: Element, order: tuple[str, ...]) -> None:
    """Move `element` (a child of `parent`) to where the schema's `order` of children wants it."""
    rank = order.index(local(element))
    for child in parent:
        name = local(child)
        if child is not element and name in order and order.index(name) > rank:
            child.addprevious(element)
            return
    parent.append(element)


def shape(element: Element) -> tuple[Any, ...]:
    """What an element says (name, attributes in order, text and children), for finding one already there."""
    return (
        local(element),
        tuple(element.attrib.items()),
        (element.text or "").strip(),
        tuple(shape(k) for k in element if isinstance(k.tag, str)),
    )


def fragment(parent: Element, xml: str) -> Element:
    """Parse `xml` (one element, unprefixed, in `parent`'s namespace) as `parent`'s new last child: it
    takes the prefix its namespace has where it goes."""
    return fragments(parent, xml)[0]


def fragments(parent: Element, xml: str) -> list[Element]:
    """`fragment` for any number of elements, in their order."""
    ns = etree.QName(parent).namespace
    parsed = etree.fromstring(f'<wrap xmlns="{ns}">{xml}</wrap>' if ns else f"<wrap>{xml}</wrap>", _PARSER)
    return [_copy_into(parent, source) for source in parsed]


def _copy_into(parent: Element, source: Element) -> Element:
    element = etree.SubElement(parent, source.tag)
    for key, value in source.attrib.items():
        element.set(key, value)
    element.text = source.text
    for child in source:
        _copy_into(element, child).tail = child.tail
    return element
