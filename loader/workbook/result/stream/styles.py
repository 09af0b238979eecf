"""Append the few formats a result needs to a workbook's styles.xml, leaving every existing one in place.

New number formats, fonts, fills, cell formats and conditional-format fills go at the end of their lists
(so every index the sheets use keeps its meaning) and the lists' `count` attributes are corrected. An
entry that is already there — written by pbload for an earlier result — is reused, not repeated.
"""

from __future__ import annotations

from loader.workbook.result.content import CellLook
from loader.workbook.result.stream.ooxml import STYLES_ORDER, attr_escape, spreadsheet_root
from loader.workbook.result.stream.refusals import Unsupported
from loader.workbook.result.stream.xml import Element, fragment, local, new_child, parse_part, place, shape

_SECTIONS = ("numFmts", "fonts", "fills", "cellStyleXfs", "cellXfs", "dxfs")
_FIRST_CUSTOM_FORMAT = 164  # number formats below are Excel's built-in ones
# Excel reads at most this many cell formats (MS-OI29500 2.1.727).
MAX_XFS = 65_430


class StylesEditor:
    """styles.xml with entries appended; `render()` gives the new part."""

    def __init__(self, data: bytes) -> None:
        self.part = parse_part(data, "styles.xml")
        if local(self.part.root) != "styleSheet":
            raise Unsupported("styles.xml has no <styleSheet>")
        spreadsheet_root(self.part, "styleSheet")
        self.sections: dict[str, Element] = {}
        self.items: dict[str, list[Element]] = {}
        for section in self.part.root:
            name = local(section)
            if name in _SECTIONS and name not in self.sections:
                self.sections[name] = section
                self.items[name] = [k for k in section if local(k)]
        self.added: dict[str, list[str]] = {name: [] for name in _SECTIONS}
        self.shapes: dict[str, list[tuple[object, ...]]] = {}  # each section's entries, once asked for
        if "fonts" not in self.items or "cellXfs" not in self.items:
            raise Unsupported("styles.xml has no fonts or cell formats")
        if "fills" not in self.items or len(self.items["fills"]) < 2:
            raise Unsupported("styles.xml lacks the two fills every workbook starts with")
        self.looks: dict[CellLook, int] = {}
        if len(self.items["cellXfs"]) + 64 > MAX_XFS:
            raise Unsupported("the workbook has nearly as many cell formats as Excel can read")

    def _add(self, section: str, item: str) -> int:
        """The index of `item` (unprefixed XML) in `section`: one already there, or a new one at the end."""
        if item in self.added[section]:
            return len(self.items.get(section, [])) + self.added[section].index(item)
        wanted = shape(fragment(self._scratch(section), item))
        if section not in self.shapes:
            self.shapes[section] = [shape(k) for k in self.items.get(section, [])]
        existing = self.shapes[section]
        if wanted in existing:
            return existing.index(wanted)
        self.added[section].append(item)
        return len(existing) + len(self.added[section]) - 1

    def _scratch(self, section: str) -> Element:
        """A detached element in the styles' namespace, to parse candidate entries into."""
        if not hasattr(self, "_scratch_element"):
            self._scratch_element = new_child(self.part.root, "scratch")
            self.part.root.remove(self._scratch_element)
        for child in list(self._scratch_element):
            self._scratch_element.remove(child)
        return self._scratch_element

    def font(
        self, bold: bool = False, size: float | None = None, underline: bool = False, color: str | None = None
    ) -> int:
        """A font like the workbook's default one, with the given changes."""
        fonts = self.items["fonts"]
        base = (
            {local(k): k.get("val") for k in fonts[0] if local(k) and k.get("val") is not None}
            if fonts
            else {}
        )
        parts = [
            "<b/>" if bold else "",
            "<u/>" if underline else "",
            f'<sz val="{size or base.get("sz", "11")}"/>',
            f'<color rgb="FF{color}"/>' if color else "",
            f'<name val="{attr_escape(base.get("name") or "Calibri")}"/>',
        ]
        return self._add("fonts", f"<font>{''.join(parts)}</font>")

    def cell_format(self, font: int, fill: int = 0, number_format: int = 0, wrap: bool = False) -> int:
        """A cell format with `font` (and a fill, number format, wrapping) and otherwise the defaults."""
        parent = ' xfId="0"' if self.items.get("cellStyleXfs") else ""
        applied = (
            ' applyFont="1"'
            + (' applyFill="1"' if fill else "")
            + (' applyNumberFormat="1"' if number_format else "")
        )
        xf = f'<xf numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="0"{parent}{applied}'
        if wrap:
            return self._add(
                "cellXfs", f'{xf} applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
            )
        return self._add("cellXfs", f"{xf}/>")

    def solid(self, rgb: str) -> int:
        """A cell's solid fill."""
        return self._add(
            "fills",
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/>'
            "</patternFill></fill>",
        )

    def number_format(self, code: str) -> int:
        """The id of a custom number format `code`, added after the workbook's own."""
        found = {item.get("formatCode"): item.get("numFmtId", "0") for item in self.items.get("numFmts", [])}
        for item in self.added["numFmts"]:
            element = fragment(self._scratch("numFmts"), item)
            found[element.get("formatCode")] = element.get("numFmtId")
        if code in found:
            return int(found[code] or 0)
        taken = [int(n) for n in found.values() if n and n.isdigit()]
        number = max([_FIRST_CUSTOM_FORMAT - 1, *taken]) + 1
        self._add("numFmts", f'<numFmt numFmtId="{number}" formatCode="{attr_escape(code)}"/>')
        return number

    def look(self, look: CellLook | None) -> int:
        """The cell format for `look` (result content), made once; 0 for none."""
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
        return self._add(
            "dxfs",
            f'<dxf><fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor rgb="FF{rgb}"/>'
            "</patternFill></fill></dxf>",
        )

    def render(self) -> bytes:
        """styles.xml with the new entries at the end of their lists (each list made if it was missing)."""
        root = self.part.root
        for name, items in self.added.items():
            if not items:
                continue
            section = self.sections.get(name)
            if section is None:
                section = self.sections[name] = new_child(root, name)
                place(root, section, STYLES_ORDER)
            for item in items:
                fragment(section, item)
            section.set("count", str(len([k for k in section if local(k)])))
        return self.part.render()
