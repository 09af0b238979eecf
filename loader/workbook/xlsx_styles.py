"""Append the few formats a result needs to a workbook's styles.xml, leaving every existing one in place.

New fonts, cell formats and conditional-format fills go at the end of their lists (so every index
the sheets use keeps its meaning) and the lists' `count` attributes are corrected. An entry that is
already there byte for byte — written by pbload for an earlier result — is reused, not repeated.
"""

from __future__ import annotations

import re

from loader.workbook.ooxml import STYLES_ORDER, Unsupported, attrs, check_namespace, children, insert_child, set_attr

_SECTIONS = ("fonts", "cellStyleXfs", "cellXfs", "dxfs")
# Excel reads at most this many cell formats (MS-OI29500 2.1.727).
MAX_XFS = 65_430


class StylesEditor:
    """styles.xml with entries appended; `render()` gives the new part."""

    def __init__(self, data: bytes) -> None:
        m = re.search(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", data)
        if not m:
            raise Unsupported("styles.xml has no <styleSheet>")
        self.p = m.group(1) or b""
        check_namespace(m.group(0), self.p)
        self.data = data
        self.root_end = m.end()
        self.root_close = data.rfind(b"</")
        self.items: dict[str, list[bytes]] = {}
        self.added: dict[str, list[bytes]] = {name: [] for name in _SECTIONS}
        for section in children(data, self.root_end, self.root_close):
            if section.name in _SECTIONS:
                block = data[section.start:section.end]
                open_end = block.index(b">") + 1
                inner_end = block.rfind(b"</") if not block.endswith(b"/>") else open_end
                self.items[section.name] = [block[k.start:k.end] for k in children(block, open_end, inner_end)]
        if "fonts" not in self.items or "cellXfs" not in self.items:
            raise Unsupported("styles.xml has no fonts or cell formats")
        if len(self.items["cellXfs"]) + 8 > MAX_XFS:
            raise Unsupported("the workbook has nearly as many cell formats as Excel can read")

    def _add(self, section: str, item: str) -> int:
        data = item.encode()
        existing = self.items.get(section, [])
        if data in existing:
            return existing.index(data)
        if data not in self.added[section]:
            self.added[section].append(data)
        return len(existing) + self.added[section].index(data)

    def font(self, bold: bool = False, size: float | None = None, underline: bool = False,
             color: str | None = None) -> int:
        """A font like the workbook's default one, with the given changes."""
        p = self.p.decode()
        base = attrs_of_children(self.items["fonts"][0]) if self.items["fonts"] else {}
        parts = [f"<{p}b/>" if bold else "", f"<{p}u/>" if underline else "",
                 f'<{p}sz val="{size or base.get("sz", "11")}"/>',
                 f'<{p}color rgb="FF{color}"/>' if color else "",
                 f'<{p}name val="{base.get("name", "Calibri")}"/>']
        return self._add("fonts", f"<{p}font>{''.join(parts)}</{p}font>")

    def cell_format(self, font: int) -> int:
        """A cell format with `font` and otherwise the defaults."""
        p = self.p.decode()
        parent = ' xfId="0"' if self.items.get("cellStyleXfs") else ""
        return self._add("cellXfs", f'<{p}xf numFmtId="0" fontId="{font}" fillId="0" borderId="0"{parent} '
                                    f'applyFont="1"/>')

    def fill(self, rgb: str) -> int:
        """A conditional format's solid fill (Excel reads its colour from bgColor)."""
        p = self.p.decode()
        return self._add("dxfs", f'<{p}dxf><{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
                                 f'<{p}bgColor rgb="FF{rgb}"/></{p}patternFill></{p}fill></{p}dxf>')

    def render(self) -> bytes:
        data = self.data
        p = self.p
        sections = {k.name: k for k in children(data, self.root_end, self.root_close)}
        for name in sorted((n for n in self.added if self.added[n]),
                           key=lambda n: -(sections[n].start if n in sections else -1)):
            items = self.items.get(name, []) + self.added[name]
            if name in sections:
                k = sections[name]
                block = data[k.start:k.end]
                tag = block[:block.index(b">") + 1]
                if tag.endswith(b"/>"):
                    tag = tag[:-2].rstrip() + b">"
                new = set_attr(tag, "count", str(len(items))) + b"".join(items) + b"</" + p + name.encode() + b">"
                data = data[:k.start] + new + data[k.end:]
            else:
                new = (b"<" + p + name.encode() + f' count="{len(items)}">'.encode() + b"".join(items)
                       + b"</" + p + name.encode() + b">")
                data = insert_child(data, (self.root_end, data.rfind(b"</")), new, name, STYLES_ORDER)
        return data


def attrs_of_children(element: bytes) -> dict[str, str]:
    """<font><sz val="11"/><name val="Calibri"/></font> -> {'sz': '11', 'name': 'Calibri'}"""
    found = {}
    for m in re.finditer(rb"<(?:[\w.-]+:)?(\w+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)/?>", element):
        val = attrs(m.group(2)).get("val")
        if val is not None:
            found[m.group(1).decode()] = val
    return found
