"""Append the few formats a result needs to a workbook's styles.xml, leaving every existing one in place.

New number formats, fonts, fills, cell formats and conditional-format fills go at the end of their lists (so every index
the sheets use keeps its meaning) and the lists' `count` attributes are corrected. An entry that is
already there byte for byte — written by pbload for an earlier result — is reused, not repeated.
"""

from __future__ import annotations

import re

from loader.workbook.ooxml import (
    STYLES_ORDER,
    Unsupported,
    attr_escape,
    attrs,
    check_namespace,
    children,
    insert_child,
    set_attr,
)
from loader.workbook.result_content import CellLook

_SECTIONS = ("numFmts", "fonts", "fills", "cellStyleXfs", "cellXfs", "dxfs")
_FIRST_CUSTOM_FORMAT = 164  # number formats below are Excel's built-in ones
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
                block = data[section.start : section.end]
                open_end = block.index(b">") + 1
                inner_end = block.rfind(b"</") if not block.endswith(b"/>") else open_end
                self.items[section.name] = [
                    block[k.start : k.end] for k in children(block, open_end, inner_end)
                ]
        if "fonts" not in self.items or "cellXfs" not in self.items:
            raise Unsupported("styles.xml has no fonts or cell formats")
        if "fills" not in self.items or len(self.items["fills"]) < 2:
            raise Unsupported("styles.xml lacks the two fills every workbook starts with")
        self.looks: dict[CellLook, int] = {}
        if len(self.items["cellXfs"]) + 64 > MAX_XFS:
            raise Unsupported("the workbook has nearly as many cell formats as Excel can read")

    def _add(self, section: str, item: str) -> int:
        data = item.encode()
        existing = self.items.get(section, [])
        if data in existing:
            return existing.index(data)
        if data not in self.added[section]:
            self.added[section].append(data)
        return len(existing) + self.added[section].index(data)

    def font(
        self, bold: bool = False, size: float | None = None, underline: bool = False, color: str | None = None
    ) -> int:
        """A font like the workbook's default one, with the given changes."""
        p = self.p.decode()
        base = attrs_of_children(self.items["fonts"][0]) if self.items["fonts"] else {}
        parts = [
            f"<{p}b/>" if bold else "",
            f"<{p}u/>" if underline else "",
            f'<{p}sz val="{size or base.get("sz", "11")}"/>',
            f'<{p}color rgb="FF{color}"/>' if color else "",
            f'<{p}name val="{base.get("name", "Calibri")}"/>',
        ]
        return self._add("fonts", f"<{p}font>{''.join(parts)}</{p}font>")

    def cell_format(self, font: int, fill: int = 0, number_format: int = 0, wrap: bool = False) -> int:
        """A cell format with `font` (and a fill, number format, wrapping) and otherwise the defaults."""
        p = self.p.decode()
        parent = ' xfId="0"' if self.items.get("cellStyleXfs") else ""
        applied = (
            ' applyFont="1"'
            + (' applyFill="1"' if fill else "")
            + (' applyNumberFormat="1"' if number_format else "")
        )
        if wrap:
            return self._add(
                "cellXfs",
                f'<{p}xf numFmtId="{number_format}" fontId="{font}" fillId="{fill}" '
                f'borderId="0"{parent}{applied} applyAlignment="1"><{p}alignment '
                f'vertical="top" wrapText="1"/></{p}xf>',
            )
        return self._add(
            "cellXfs",
            f'<{p}xf numFmtId="{number_format}" fontId="{font}" fillId="{fill}" '
            f'borderId="0"{parent}{applied}/>',
        )

    def solid(self, rgb: str) -> int:
        """A cell's solid fill."""
        p = self.p.decode()
        return self._add(
            "fills",
            f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
            f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>',
        )

    def number_format(self, code: str) -> int:
        """The id of a custom number format `code`, added after the workbook's own."""
        p = self.p.decode()
        found = {
            attrs(item).get("formatCode"): attrs(item).get("numFmtId", "0")
            for item in self.items.get("numFmts", []) + self.added["numFmts"]
        }
        if code in found:
            return int(found[code] or 0)
        taken = [int(n) for n in found.values() if n.isdigit()]
        number = max([_FIRST_CUSTOM_FORMAT - 1, *taken]) + 1
        self._add("numFmts", f'<{p}numFmt numFmtId="{number}" formatCode="{attr_escape(code)}"/>')
        return number

    def look(self, look: CellLook | None) -> int:
        """The cell format for `look` (result_content), made once; 0 for none."""
        if look is None:
            return 0
        if look not in self.looks:
            font = self.font(bold=look.bold, size=look.size, underline=look.underline, color=look.color)
            self.looks[look] = self.cell_format(
                font,
                self.solid(look.fill) if look.fill else 0,
                self.number_format(look.number_format) if look.number_format else 0,
                look.wrap,
            )
        return self.looks[look]

    def fill(self, rgb: str) -> int:
        """A conditional format's solid fill (Excel reads its colour from bgColor)."""
        p = self.p.decode()
        return self._add(
            "dxfs",
            f'<{p}dxf><{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
            f'<{p}bgColor rgb="FF{rgb}"/></{p}patternFill></{p}fill></{p}dxf>',
        )

    def render(self) -> bytes:
        data = self.data
        p = self.p
        sections = {k.name: k for k in children(data, self.root_end, self.root_close)}
        for name in sorted(
            (n for n in self.added if self.added[n]),
            key=lambda n: -(sections[n].start if n in sections else -1),
        ):
            items = self.items.get(name, []) + self.added[name]
            if name in sections:
                k = sections[name]
                block = data[k.start : k.end]
                tag = block[: block.index(b">") + 1]
                if tag.endswith(b"/>"):
                    tag = tag[:-2].rstrip() + b">"
                new = (
                    set_attr(tag, "count", str(len(items)))
                    + b"".join(items)
                    + b"</"
                    + p
                    + name.encode()
                    + b">"
                )
                data = data[: k.start] + new + data[k.end :]
            else:
                new = (
                    b"<"
                    + p
                    + name.encode()
                    + f' count="{len(items)}">'.encode()
                    + b"".join(items)
                    + b"</"
                    + p
                    + name.encode()
                    + b">"
                )
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
