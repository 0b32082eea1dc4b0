"""Build a tiny random-weight Stable-Diffusion-style pipeline, fully offline.

THIS IS A TEST MODEL: its weights are random, so every image it renders is noise. It
exists so that development, CI and demos exercise the real diffusers code path
(tokenizer, text encoder, UNet, scheduler, VAE, seeded generator, step callbacks)
without downloading anything. It must never be offered as a real model.

Rules:
- Nothing is downloaded: every component is built from a config; the CLIP tokenizer
  is a minimal byte-level BPE written here.
- The build is deterministic: weights come from a fixed torch seed, so two builds
  give identical safetensors files.
- The VAE has four blocks, so it downsamples 8x like real SD models (a 256 px image
  is a 32x32 latent: about half a second on two CPU cores at 4 steps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY_MODEL_SEED = 0
"""Seed for the random weights; fixed so every build gives the same files."""

README_TEXT = """\
Imagegate TINY TEST MODEL -- NOT A REAL MODEL

This directory holds a Stable-Diffusion-style pipeline with RANDOM weights, built
locally by `python manage.py make_test_model` (generation/engine/tiny_model.py).
Every image it renders is noise. It exists only for development, tests and demos,
so that the real diffusers code path runs without downloading any weights.

Components: UNet2DConditionModel (block_out_channels 32/64, cross_attention_dim 32),
CLIPTextModel (hidden size 32), AutoencoderKL (4 blocks, 8x downsampling),
DDIMScheduler (steps_offset=1), a minimal byte-level BPE CLIP tokenizer.
No safety checker (moderation runs separately in Imagegate).
"""


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte-to-unicode table: every byte maps to a printable character."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


_MERGES = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("i", "n"), ("o", "n</w>")]


def write_tiny_tokenizer(out_dir: Path) -> None:
    """Write vocab.json, merges.txt and the tokenizer config of a minimal CLIP BPE.

    The vocabulary is the 256 byte characters, the same with ``</w>``, the products
    of a few merges, and the two special tokens. ``model_max_length`` is 77, which
    the pipeline's padding relies on.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + [a + b for a, b in _MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(dict.fromkeys(tokens))}
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    merges = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in _MERGES)
    (out_dir / "merges.txt").write_text(merges, "utf-8")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": 77,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "do_lower_case": True,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2), "utf-8")


def build_tiny_pipeline(out_dir: Path) -> None:
    """Build the random-weight TEST pipeline (images are noise) and save it to ``out_dir``.

    Deterministic (fixed torch seed) and offline. Writes ``README.txt`` saying that
    this is a test model. ``out_dir`` is created; existing files are overwritten.
    """
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = out_dir / "tokenizer"
    write_tiny_tokenizer(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir), model_max_length=77)

    torch.manual_seed(TINY_MODEL_SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    torch.manual_seed(TINY_MODEL_SEED)
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 64, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=256,
    )
    torch.manual_seed(TINY_MODEL_SEED)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    save_pipeline(out_dir, unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer)
    (out_dir / "README.txt").write_text(README_TEXT, "utf-8")


def save_pipeline(
    out_dir: Path, *, unet: Any, vae: Any, text_encoder: Any, tokenizer: Any, dtype: Any = None
) -> None:
    """Save a Stable Diffusion pipeline of these parts (DDIM scheduler, no safety
    checker: the platform's own output classifiers moderate), in ``dtype`` if given."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline: Any = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    if dtype is not None:
        pipeline = pipeline.to(dtype)
    pipeline.save_pretrained(str(out_dir), safe_serialization=True)


def is_tiny_pipeline(path: Path) -> bool:
    """True when ``path`` holds a saved pipeline (``model_index.json`` exists)."""
    return (Path(path) / "model_index.json").is_file()
