"""The README's column tables, made from the resource catalogue (a test keeps the README in step).

Run `python -m tests.tools.readme_columns` and paste its output between the README's column markers
after changing a sheet's columns.
"""

from __future__ import annotations

from loader.resources import RESOURCES, Field, Resource

BEGIN = "<!-- columns: made by python -m tests.tools.readme_columns -->"
END = "<!-- end of columns -->"


def _rule(f: Field) -> str:
    parts = []
    if f.max_length:
        parts.append(f"≤ {f.max_length}")
    if f.choices:
        parts.append(" \\| ".join(f.choices))
    if f.minimum is not None:
        parts.append(f"{'>' if f.minimum_exclusive else '≥'} {f.minimum:g}")
    if f.pattern_hint:
        parts.append(f.pattern_hint)
    if f.default is not None:
        parts.append(f"blank = {f.default}")
    if f.separator:
        parts.append(f"several, separated by `{f.separator}`")
    if f.fixed:
        parts.append(", ".join(f"with `{path.rsplit('.', 1)[-1]}` = `{value}`" for path, value in f.fixed))
    return "; ".join(parts)


def _field(f: Field) -> str:
    if f.path is None:
        return "(pbload's own)"
    return f"`{f.path}`" + (" (per line)" if f.is_line else "")


def table(resource: Resource) -> str:
    """One sheet's columns: header, whether required, PB's field, the rule."""
    rows = [
        f"#### {resource.sheet} (template version {resource.template_version})",
        "",
        "| Column | Required | PB field | Rule |",
        "|---|---|---|---|",
    ]
    for f in resource.fields:
        rows.append(f"| {f.header} | {'yes' if f.required else ''} | {_field(f)} | {_rule(f)} |")
    return "\n".join(rows)


def tables() -> str:
    """Every sheet's table, between the markers."""
    return "\n\n".join([BEGIN, *(table(r) for r in RESOURCES), END])


if __name__ == "__main__":
    print(tables())
