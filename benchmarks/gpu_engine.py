"""Images per second of the generation engine alone (no Django, no database), batching
off and on: the GPU figure of `benchmarks/gpu.py` for machines that hold only torch and
diffusers.

    python -m benchmarks.gpu_engine [--model-dir var/models/tiny-sd | --sd15-shape DIR]
                                    [--sizes 1,4,8] [--jobs 8] [--side 512] [--steps 25]
                                    [--json FILE]

Each batch size renders ``--jobs`` one-image jobs through ``generate_batch`` (the GPU
worker's own call: per-job seeds, the step callback, the cancel check) in calls of that
many jobs, after one untimed warm-up call; on CUDA every call is synchronised before
the clock stops. ``--sd15-shape DIR`` first writes a pipeline with Stable Diffusion
1.5's architecture and random weights into DIR (UNet 320/640/1280/1280 with
cross-attention 768, the SD VAE, a CLIP-L-sized text encoder; the images are noise, the
arithmetic per step is SD 1.5's), for machines without real weights on disk.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generation.engine.backend import (  # noqa: E402
    BatchItem,
    ModelSpec,
    PipelineCache,
    generate_batch,
)


def write_sd15_shape(out_dir: Path) -> None:
    """Save a random-weight pipeline with SD 1.5's shapes (fp16) into ``out_dir``."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from generation.engine.tiny_model import save_pipeline, write_tiny_tokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    write_tiny_tokenizer(out_dir / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(str(out_dir / "tokenizer"), model_max_length=77)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64,
        cross_attention_dim=768,
        attention_head_dim=8,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=768,
            intermediate_size=3072,
            num_attention_heads=12,
            num_hidden_layers=12,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    save_pipeline(
        out_dir,
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        dtype=torch.float16,
    )


def measure(
    cache: PipelineCache, spec: ModelSpec, size: int, jobs: int, side: int, steps: int
) -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()

    def call(first_seed: int, count: int) -> float:
        items = [
            BatchItem(prompt=f"a lighthouse at dusk, study {first_seed + i}", seed=first_seed + i)
            for i in range(count)
        ]
        started = time.perf_counter()
        generate_batch(cache, spec, items, width=side, height=side, steps=steps, guidance_scale=7.5)
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - started

    call(10_000, size)  # warm-up: kernels, allocator, cuDNN choices for this shape
    times = [call(first, min(size, jobs - first)) for first in range(0, jobs, size)]
    total = sum(times)
    return {
        "batch": size,
        "jobs": jobs,
        "calls": len(times),
        "seconds": round(total, 3),
        "images_per_s": round(jobs / total, 3),
        "ms_per_image": round(1000 * total / jobs, 1),
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "models" / "tiny-sd"))
    parser.add_argument("--sd15-shape", help="write an SD 1.5-shaped random pipeline here")
    parser.add_argument("--sizes", default="1,4,8")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    model_dir = Path(args.model_dir)
    label = "tiny test model"
    if args.sd15_shape:
        model_dir = Path(args.sd15_shape)
        label = "SD 1.5 architecture, random weights (fp16 on CUDA)"
        if not (model_dir / "model_index.json").exists():
            started = time.perf_counter()
            write_sd15_shape(model_dir)
            print(f"wrote {model_dir} in {time.perf_counter() - started:.0f} s", flush=True)
    spec = ModelSpec(id="bench", source=str(model_dir), flags=frozenset({"test_model"}))
    cache = PipelineCache(num_threads=args.threads)
    started = time.perf_counter()
    cache.get(spec)
    load_s = time.perf_counter() - started
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    result: dict[str, Any] = {
        "model": label,
        "device": device,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "side": args.side,
        "steps": args.steps,
        "load_s": round(load_s, 2),
        "runs": [],
    }
    for size in (int(s) for s in args.sizes.split(",")):
        run = measure(cache, spec, size, args.jobs, args.side, args.steps)
        result["runs"].append(run)
        print(json.dumps(run), flush=True)
    base = result["runs"][0]["images_per_s"]
    for run in result["runs"]:
        run["speedup"] = round(run["images_per_s"] / base, 2)
    if torch.cuda.is_available():
        result["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
