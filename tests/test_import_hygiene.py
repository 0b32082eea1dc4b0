"""Function-local imports of project code (issue 14): none dodges a cycle or a layer.

An import inside a function hides a dependency from the reader and from import-linter's
module cycles contract reading the code top-down; each one left is listed here with its
reason, and a new one fails this test until it is moved to the top of its module (or
restructured: a task imports services, services find the task by name; a lower layer
calls up through ``core.upcalls``). ``AppConfig.ready()`` is the one place where Django
requires them (models are not loaded while ``apps.py`` is imported). Migrations are
not scanned: a data migration imports code only when it runs.

Third-party imports kept local to defer a heavy optional library (torch, diffusers,
onnxruntime, imwatermark, c2pa) live in the engines and ``moderation.images``; they
are outside this list, which is about project modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = (
    "core",
    "accounts",
    "billing",
    "moderation",
    "generation",
    "accountability",
    "console",
    "imagegate",
)

# (file, function, imported module) -> why it stays inside the function.
ALLOWED: dict[tuple[str, str, str], str] = {}


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT


def function_local_imports(source: str) -> list[tuple[str, str, int]]:
    """(outermost function, imported project module, line) of every import inside a
    function; a relative import counts as a project one."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if function is None and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if function is not None and isinstance(child, ast.Import):
                found.extend(
                    (function, alias.name, child.lineno)
                    for alias in child.names
                    if _is_project(alias.name)
                )
            elif function is not None and isinstance(child, ast.ImportFrom):
                module = "." * child.level + (child.module or "")
                if child.level or _is_project(module):
                    found.append((function, module, child.lineno))
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def _scan() -> dict[tuple[str, str, str], int]:
    sites: dict[tuple[str, str, str], int] = {}
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            for function, module, line in function_local_imports(path.read_text()):
                if path.name == "apps.py" and function == "ready":
                    continue  # Django: models are not loaded while apps.py is imported
                sites.setdefault((relative, function, module), line)
    return sites


def test_no_function_local_import_of_project_code_outside_the_list() -> None:
    sites = _scan()
    new = sorted(f"{path}:{line} in {function}(): {module}"
                 for (path, function, module), line in sites.items()
                 if (path, function, module) not in ALLOWED)  # fmt: skip
    assert new == [], (
        "Import these at the top of the module (or restructure the cycle they dodge):\n"
        + "\n".join(new)
    )


def test_the_list_holds_no_entry_that_is_gone() -> None:
    gone = sorted(set(ALLOWED) - set(_scan()))
    assert gone == [], f"Remove these entries from ALLOWED, they are fixed: {gone}"


def test_the_scan_sees_local_imports_and_ignores_top_level_ones() -> None:
    source = (
        "import billing.models\n"
        "from core import errors\n"
        "def f():\n"
        "    import json\n"
        "    from generation.services import x\n"
        "    def g():\n"
        "        from . import sibling\n"
        "class C:\n"
        "    def m(self):\n"
        "        import moderation.tasks\n"
    )
    assert function_local_imports(source) == [
        ("f", "generation.services", 5),
        ("f", ".", 7),
        ("m", "moderation.tasks", 10),
    ]
