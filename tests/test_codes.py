"""Every problem code pbload gives is in the registry (`loader.codes.Code`), with a severity and a hint.

The codes are found in the source, not listed by hand: a walk over the syntax tree of every module
of loader/ collects the text given as a code (an `Issue`'s fourth argument or `code=`, an
`error_code=`, a `refused(code, ...)`, a check's `_Problem(code, ...)`, a pandera check's `name=`),
compared with a `.code` or `.error_code`, or returned or unpacked as the `code` of a pair; a name
stands for the text a module assigns it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader.codes import API_FAILURE_HINT, UNKNOWN_HINT, Code, hint_for
from loader.models import Severity
from tests.helpers import REPO

LOADER = REPO / "loader"
# The emulator stands in for PB: its codes are PB's (EMU-..., PB-...), never pbload's.
SKIPPED = LOADER / "emulator"
# PB's own codes (PB-4001, PB-APIM-ERR-1002, HTTP-503) are upper case; loader/api compares with them.
API_CODE = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")
# Calls that take a code, and where: position of the positional argument, names of keywords.
CODE_ARGUMENTS = {
    "Issue": (3, "code"),
    "_Problem": (0, "code"),
    "refused": (0, "code"),
    "Outcome": (None, None),
}
CODE_KEYWORDS = {"error_code"}
CODE_ATTRIBUTES = {"code", "error_code"}
# Pandera checks are named by the code they report (loader.checks).
CHECK_CALLS = {"Check"}
# The one code whose severity depends on the cell (an error in a key column): see loader/codes.py.
CONTEXT_SEVERITY = {Code.CONTROL_CHARACTER}


def modules() -> list[Path]:
    return sorted(p for p in LOADER.rglob("*.py") if SKIPPED not in p.parents)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class CodeFinder(ast.NodeVisitor):
    """The code texts one module gives, each with its line, and the severity given with an Issue."""

    def __init__(self, constants: dict[str, str], path: Path) -> None:
        self.constants = constants
        self.path = path
        self.found: list[tuple[str, int]] = []
        self.severities: list[tuple[str, str, int]] = []  # (code, severity given, line)
        self.pair_functions: set[str] = set()  # functions whose result is unpacked as `code, ...`

    def texts(self, node: ast.expr | None) -> Iterator[str]:
        """The code texts an expression can be: a literal, a constant, Code.X, either branch of an `if`."""
        if node is None:
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.Attribute) and _name(node.value) == "Code":
            yield getattr(Code, node.attr).value if hasattr(Code, node.attr) else f"Code.{node.attr}"
        elif isinstance(node, ast.Name) and node.id in self.constants:
            yield self.constants[node.id]
        elif isinstance(node, ast.IfExp):
            yield from self.texts(node.body)
            yield from self.texts(node.orelse)
        elif isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            for element in node.elts:
                yield from self.texts(element)

    def add(self, node: ast.expr | None, line: int) -> None:
        self.found += [(text, line) for text in self.texts(node)]

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if name in CODE_ARGUMENTS:
            position, keyword = CODE_ARGUMENTS[name]
            code = node.args[position] if position is not None and len(node.args) > position else None
            code = keywords.get(keyword, code) if keyword else code
            self.add(code, node.lineno)
            if name == "Issue" and code is not None:
                given = node.args[5] if len(node.args) > 5 else keywords.get("severity")
                severity = _name(given) if given is not None else "ERROR"
                for text in self.texts(code):
                    self.severities.append((text, severity or "?", node.lineno))
        for keyword in CODE_KEYWORDS & keywords.keys():
            self.add(keywords[keyword], node.lineno)
        if name in CHECK_CALLS and "name" in keywords and not isinstance(keywords["name"], ast.JoinedStr):
            self.add(keywords["name"], node.lineno)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        sides = [node.left, *node.comparators]
        if any(isinstance(s, ast.Attribute) and s.attr in CODE_ATTRIBUTES for s in sides):
            for side in sides:
                if not isinstance(side, ast.Attribute) or side.attr not in CODE_ATTRIBUTES:
                    self.add(side, node.lineno)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        # `code, why = ("filtered-row", ...) if ... else ("hidden-row", ...)`, `code, message = _describe(...)`
        for target in node.targets:
            if isinstance(target, ast.Tuple):
                names = [_name(e) for e in target.elts]
                if "code" in names:
                    at = names.index("code")
                    for value in _branches(node.value):
                        if isinstance(value, ast.Tuple) and len(value.elts) > at:
                            self.add(value.elts[at], node.lineno)
                        elif isinstance(value, ast.Call) and (called := _name(value.func)):
                            self.pair_functions.add(called)
        self.generic_visit(node)


def _branches(node: ast.expr) -> Iterator[ast.expr]:
    if isinstance(node, ast.IfExp):
        yield from _branches(node.body)
        yield from _branches(node.orelse)
    else:
        yield node


def _pair_returns(tree: ast.Module, functions: set[str]) -> Iterator[tuple[ast.expr, int]]:
    """The first element of each pair that a function unpacked as `code, ...` returns."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Tuple) and inner.value.elts:
                    yield inner.value.elts[0], inner.lineno


def module_constants(trees: dict[Path, ast.Module]) -> dict[str, str]:
    """Every module-level `NAME = "text"` of loader/, by name (codes are imported by name)."""
    constants: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            constants[target.id] = node.value.value
    return constants


def scan() -> list[CodeFinder]:
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in modules()}
    constants = module_constants(trees)
    return [find_codes(tree, constants, path) for path, tree in trees.items()]


def find_codes(tree: ast.Module, constants: dict[str, str], path: Path) -> CodeFinder:
    finder = CodeFinder(constants, path)
    finder.visit(tree)
    for value, line in _pair_returns(tree, finder.pair_functions):
        finder.add(value, line)
    return finder


@pytest.fixture(scope="module")
def finders() -> list[CodeFinder]:
    return scan()


def test_every_code_given_in_loader_is_in_the_registry(finders):
    unknown = [
        f"{finder.path.relative_to(REPO)}:{line}: {text!r}"
        for finder in finders
        for text, line in finder.found
        if Code.of(text) is None and not API_CODE.fullmatch(text)
    ]
    assert unknown == [], "codes not in loader/codes.py:\n" + "\n".join(unknown)


def test_the_walk_finds_codes_in_each_place_they_are_given(finders):
    # the scan itself is tested: were it blind, the test above would pass on nothing
    by_module = {f.path.relative_to(LOADER).as_posix(): {t for t, _ in f.found} for f in finders}
    expected = {
        "checks.py": {
            "required",
            "duplicate-key",
            "too-long",
            "whitespace",
            "cannot-clear",
            "control-character",
        },
        "plan.py": {"unknown-sku", "invalid-group", "dependency-failed", "lookup-failed"},
        "pipeline.py": {"no-answer", "unknown-sku"},
        "send/common.py": {"no-result", "no-answer", "unreachable", "lookup-failed"},
        "send/keyed.py": {"not-found", "already-exists"},
        "workbook/reader.py": {"empty-sheet", "hidden-row", "filtered-row", "merged-cells", "unknown-column"},
        "resources/products.py": {"dimensions-reordered"},
    }
    for module, codes in expected.items():
        assert codes <= by_module.get(module, set()), (module, codes - by_module.get(module, set()))


def test_every_registered_code_is_given_somewhere(finders):
    given = {text for finder in finders for text, _ in finder.found}
    assert {c.value for c in Code} - given == set()


def test_an_issue_is_reported_with_its_codes_severity(finders):
    wrong = [
        f"{finder.path.relative_to(REPO)}:{line}: {text} given as {severity}"
        for finder in finders
        for text, severity, line in finder.severities
        if (code := Code.of(text)) is not None
        and code not in CONTEXT_SEVERITY
        and severity in Severity.__members__
        and Severity[severity] is not code.severity
    ]
    assert wrong == []


def test_every_code_has_a_hint_of_its_own():
    hints = [code.hint for code in Code]
    assert all(hint.strip() and hint.endswith(".") for hint in hints)
    assert len(set(hints)) == len(hints), "two codes share a hint"
    for code in Code:
        assert hint_for(code) == hint_for(code.value, from_api=True) == code.hint
        assert code.hint not in (UNKNOWN_HINT, API_FAILURE_HINT)
        assert isinstance(code.severity, Severity)


def test_a_code_is_the_text_it_replaces():
    assert Code.UNKNOWN_SKU == "unknown-sku" and "unknown-sku" == Code.UNKNOWN_SKU
    assert {"unknown-sku": 1}[Code.UNKNOWN_SKU] == 1
    assert str(Code.UNKNOWN_SKU) == f"{Code.UNKNOWN_SKU}" == "unknown-sku"
    assert Code("required") is Code.REQUIRED and Code.of("PB-4001") is None and Code.of(None) is None


def test_codes_are_kebab_case_and_named_after_their_text():
    for code in Code:
        assert code.name == code.value.upper().replace("-", "_")


def test_the_walk_sees_a_new_code_in_every_form_it_takes():
    source = """
NEW = "made-up-1"
issues.append(Issue(sheet, row, None, "made-up-2", "message"))
Issue(sheet, row, None, code=NEW, message="m")
Outcome(Status.FAILED, error_code="made-up-3")
refused("made-up-4", "message")
_Problem("made-up-5", "message")
pa.Check(lambda s: s, name="made-up-6")
keep = [i for i in issues if i.code != "made-up-7"]
code, why = ("made-up-8", "a") if hidden else ("made-up-9", "b")
code, message = _describe(check)
def _describe(check):
    if check:
        return "made-up-10", "message"
    return check, "fall-back"
"""
    tree = ast.parse(source)
    finder = CodeFinder(module_constants({Path("x.py"): tree}), Path("x.py"))
    finder.visit(tree)
    finder.found += [
        (t, line) for v, line in _pair_returns(tree, finder.pair_functions) for t in finder.texts(v)
    ]
    assert {t for t, _ in finder.found} == {f"made-up-{n}" for n in range(1, 11)}
