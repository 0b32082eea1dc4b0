"""`benchmarks/gpu_engine.py`: the engine's images/s per batch size, without Django."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import gpu_engine


def test_reports_every_batch_size_against_one_at_a_time(tiny_model_dir: Path, tmp_path: Path):
    out = tmp_path / "engine.json"
    argv = ["--model-dir", str(tiny_model_dir), "--sizes", "1,2", "--jobs", "3"]
    assert gpu_engine.main([*argv, "--side", "64", "--steps", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["model"] == "tiny test model"
    assert (result["side"], result["steps"]) == (64, 1)
    runs = result["runs"]
    assert [(r["batch"], r["jobs"], r["calls"]) for r in runs] == [(1, 3, 3), (2, 3, 2)]
    assert runs[0]["speedup"] == 1.0
    for run in runs:
        assert run["images_per_s"] > 0
        assert run["speedup"] == round(run["images_per_s"] / runs[0]["images_per_s"], 2)
