"""Training material stays out of the deployed app; the trainer has no fixed paths."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP_DIRS = ("accountability", "accounts", "billing", "console", "core", "generation",
            "imagegate", "moderation", "scripts")  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_app_module_imports_the_training_area():
    offenders = [
        str(path.relative_to(REPO))
        for folder in APP_DIRS
        for path in (REPO / folder).rglob("*.py")
        if "training" in _imports(path)
    ]
    assert offenders == []


def test_training_material_left_the_app():
    data = REPO / "moderation" / "data"
    for moved in ("prototypes.json", "checkset", "finalset", "testset3", "testset4"):
        assert not (data / moved).exists()
        assert (REPO / "training" / "data" / moved).exists()
    assert not (REPO / "scripts" / "synthetic").exists()
    assert not (REPO / "scripts" / "train_text_head.py").exists()


def test_nothing_reads_a_fixed_evaluation_path():
    for folder in (*APP_DIRS, "training"):
        for path in (REPO / folder).rglob("*.py"):
            assert "/work/shared" not in path.read_text(encoding="utf-8"), path


def test_trainer_requires_the_evaluation_set_folder(capsys: pytest.CaptureFixture[str]):
    from training.train import main

    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "--eval-dir" in capsys.readouterr().err
