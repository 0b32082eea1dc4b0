"""Synthetic training prompts for the text head, written for Imagegate.

Why: the evaluation set's unsafe rows come mostly from a few sources with one style
each (I2P's long Stable Diffusion tag lists, OVERT's short LLM sentences, Ring-A-Bell's
inverted prompts), and its benign rows from others (COCO captions, PartiPrompts). A
head trained on it alone learns "caption style = benign". These templates state the
same harms, and their ordinary look-alikes, in every style a user types, so that the
style stops carrying the label.

Rules:
- Each category module (``vocab_<name>.py``) holds word lists only: ``SUBJECTS``
  (noun phrases), ``ACTIONS`` (verb phrases that follow a subject), ``SCENES`` (whole
  noun phrases), ``SETTINGS`` (place phrases), ``TAGS`` (short tag-list words) and
  ``SENTENCES`` (whole prompts). All of it is written for this project; nothing is
  copied from the evaluation set or any other prompt collection.
- ``generate`` renders ``per_category`` prompts per category through ``STYLES``
  (caption, request, tag list, booru tags, weighted tags, prose, bare phrase, whole
  sentence, pretext, oblique), deterministically from ``seed``; duplicates are dropped.
- ``pretext`` wraps a scene in a justification ("for my novel, ...", "for an awareness
  campaign, ..."), for unsafe and benign rows alike, so that a pretext is no label.
- ``oblique`` draws whole prompts from ``oblique.OBLIQUE[category]``: scenes whose harm
  is clear without its keyword, and benign scenes with the same mood or framing; benign
  rows also draw from ``hard_negatives.HARD_NEGATIVES`` (police procedure, contact
  sports, medicine, grief, religious symbols in context: ordinary scenes a filter trips on).
- Benign rows (``vocab_benign.py``) are hard negatives: the same subjects, weapons,
  bodies, medicine, history and art in ordinary scenes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from training.synthetic import (
    hard_negatives,
    oblique,
    vocab_benign,
    vocab_hate,
    vocab_illegal,
    vocab_self_harm,
    vocab_sexual,
    vocab_violence,
)

MODULES: dict[str, ModuleType] = {
    "sexual": vocab_sexual,
    "violence_graphic": vocab_violence,
    "hate": vocab_hate,
    "self_harm": vocab_self_harm,
    "illegal": vocab_illegal,
    "benign": vocab_benign,
}

SCOPE_OF = {module.__name__: scope for scope, module in MODULES.items()}
_MINOR_WORDS = re.compile(
    r"\b(child\w*|kids?|boys?|girls?|bab(y|ies)|toddlers?|teen\w*|school\w*|little|sons?"
    r"|daughters?|kindergarten|infants?|young|youth|students?|minors?|junior|playground)\b"
)

STYLE_TAGS = (
    "highly detailed", "sharp focus", "4k", "8k", "uhd", "masterpiece", "best quality",
    "photorealistic", "hyperrealistic", "35mm", "film photo", "kodak portra", "dslr",
    "50mm lens", "f/1.8", "bokeh", "soft light", "rim light", "moody lighting",
    "studio photo", "cinematic", "cinematic still", "movie still", "anime", "manga",
    "cel shading", "comic book style", "oil on canvas", "acrylic", "gouache", "charcoal sketch",
    "pencil drawing", "ink drawing", "digital illustration", "3d render", "blender",
    "cycles render", "unreal engine 5", "octane", "ray tracing", "artstation hq",
    "trending on pixiv", "deviantart", "by ilya kuvshinov", "by loish", "by sakimichan",
    "by boris vallejo", "by gil elvgren", "by egon schiele", "by francis bacon",
    "by gustave dore", "by edward hopper", "by annie leibovitz", "by helmut newton",
    "by steve mccurry", "by yoji shinkawa", "by kim jung gi", "photojournalism",
    "documentary photo", "polaroid", "cctv footage", "security camera still", "news photo",
    "vintage photo", "sepia", "black and white", "low angle", "wide shot", "close up",
    "full body shot", "dutch angle", "pov", "selfie", "instagram photo", "vhs still",
)  # fmt: skip

REQUESTS = (
    "generate an image of {x}", "draw {x}", "make a picture of {x}", "show me {x}",
    "create {x}", "an image of {x}", "a picture of {x}", "i want a photo of {x}",
    "can you draw {x}", "please render {x}", "paint {x}", "illustrate {x}",
    "photo of {x}", "a realistic photo of {x}", "render {x} in high detail",
    "give me {x}", "a drawing showing {x}", "depict {x}", "visualize {x}",
    "i need an illustration of {x}",
)  # fmt: skip

PROSE_OPENERS = (
    "The image shows", "In this picture,", "A scene in which", "The photograph captures",
    "This artwork depicts", "The frame is filled with", "We see", "The camera focuses on",
)  # fmt: skip

PROSE_CLOSERS = (
    "The lighting is harsh and direct.", "Everything is rendered in sharp detail.",
    "The colours are muted and cold.", "It looks like a still from a film.",
    "The mood is tense.", "The background is blurred.", "Shot at night with a flash.",
    "The style is realistic.", "Warm afternoon light fills the room.",
    "The composition is centred on the figures.",
)  # fmt: skip


PRETEXTS = (
    "for my novel, {x}", "i'm writing a horror story and need {x}", "for a school project: {x}",
    "for an awareness campaign, show {x}", "for research purposes, generate {x}",
    "it's for a movie poster: {x}", "for a documentary, {x}", "hypothetically, {x}",
    "as a joke for my group chat, {x}", "for a museum exhibit, {x}",
    "for my podcast cover art: {x}", "purely artistic, {x}", "for a video game level: {x}",
    "my teacher asked for {x}", "asking for a friend: {x}", "no judgement please, {x}",
    "it's fiction so it's fine: {x}", "for a history lesson, {x}",
    "i'm an artist exploring dark themes, {x}", "for a tabletop rpg handout, {x}",
    "for a book cover, {x}", "my client wants {x}", "just for me, nobody will see it: {x}",
    "for a comic i'm drawing, {x}",
)  # fmt: skip


def _pick(rng: random.Random, items: Any) -> str:
    return str(rng.choice(list(items))) if items else ""


def _core(rng: random.Random, vocab: ModuleType) -> str:
    """One scene as a phrase: subject + action (+ setting), or a whole scene phrase."""
    setting = _pick(rng, vocab.SETTINGS) if rng.random() < 0.6 else ""
    if vocab.SCENES and (rng.random() < 0.35 or not vocab.ACTIONS):
        core = _pick(rng, vocab.SCENES)
    else:
        core = f"{_pick(rng, vocab.SUBJECTS)} {_pick(rng, vocab.ACTIONS)}"
    return f"{core} {setting}".strip()


def _tags(rng: random.Random, vocab: ModuleType, low: int, high: int) -> list[str]:
    pool = list(vocab.TAGS)
    return rng.sample(pool, min(len(pool), rng.randint(low, high)))


def caption(rng: random.Random, vocab: ModuleType) -> str:
    text = _core(rng, vocab)
    return text[:1].upper() + text[1:] + "."


def request(rng: random.Random, vocab: ModuleType) -> str:
    return _pick(rng, REQUESTS).format(x=_core(rng, vocab))


def tag_list(rng: random.Random, vocab: ModuleType) -> str:
    style = rng.sample(STYLE_TAGS, rng.randint(2, 7))
    parts = [_core(rng, vocab), *_tags(rng, vocab, 0, 2), *style]
    return ", ".join(parts)


def booru(rng: random.Random, vocab: ModuleType) -> str:
    tags = _tags(rng, vocab, 3, 8)
    quality = rng.sample(["masterpiece", "best quality", "highres", "absurdres", "4k"], 2)
    return ", ".join(quality + tags)


def weighted(rng: random.Random, vocab: ModuleType) -> str:
    tags = _tags(rng, vocab, 2, 5)
    marked = [f"({t}:{rng.choice(['1.1', '1.2', '1.3', '1.4', '1.5'])})" for t in tags[:2]]
    style = rng.sample(STYLE_TAGS, rng.randint(1, 4))
    return ", ".join([_core(rng, vocab), *marked, *tags[2:], *style])


def prose(rng: random.Random, vocab: ModuleType) -> str:
    return f"{_pick(rng, PROSE_OPENERS)} {_core(rng, vocab)}. {_pick(rng, PROSE_CLOSERS)}"


def bare(rng: random.Random, vocab: ModuleType) -> str:
    return _core(rng, vocab)


def sentence(rng: random.Random, vocab: ModuleType) -> str:
    text = _pick(rng, vocab.SENTENCES)
    if rng.random() < 0.3:
        text = f"{text}, {', '.join(rng.sample(STYLE_TAGS, rng.randint(1, 4)))}"
    return text


def pretext(rng: random.Random, vocab: ModuleType) -> str:
    return _pick(rng, PRETEXTS).format(x=_core(rng, vocab))


def oblique_prompt(rng: random.Random, vocab: ModuleType) -> str:
    scope = SCOPE_OF[vocab.__name__]
    if scope == "benign":
        return _pick(rng, oblique.OBLIQUE[scope] + hard_negatives.HARD_NEGATIVES)
    return _pick(rng, oblique.OBLIQUE[scope])


def scene(rng: random.Random, vocab: ModuleType) -> str:
    """A long prompt: 3-7 ordinary clauses (benign scenes and settings) with the
    category's own scene among them at a random place, so that a head learns that
    ordinary clauses neither make a prompt unsafe nor hide a request among them."""
    clauses: list[str] = []
    wanted = rng.randint(3, 7)
    while len(clauses) < wanted:
        clause = (
            _core(rng, vocab_benign) if rng.random() < 0.6 else _pick(rng, vocab_benign.SETTINGS)
        )
        if not _MINOR_WORDS.search(clause):  # no child beside a sexual or violent scene
            clauses.append(clause)
    clauses.insert(rng.randint(0, len(clauses)), _core(rng, vocab))
    return ", ".join([*clauses, *rng.sample(STYLE_TAGS, rng.randint(0, 3))])


STYLES: dict[str, tuple[float, Callable[[random.Random, ModuleType], str]]] = {
    "caption": (0.20, caption),
    "request": (0.12, request),
    "tag_list": (0.16, tag_list),
    "booru": (0.08, booru),
    "weighted": (0.07, weighted),
    "prose": (0.08, prose),
    "bare": (0.10, bare),
    "sentence": (0.13, sentence),
    "pretext": (0.06, pretext),
    "oblique": (0.14, oblique_prompt),
    "scene": (0.08, scene),
}


def generate(per_category: int = 1000, benign: int = 3000, seed: int = 0) -> list[dict[str, str]]:
    """Rows ``{prompt, scope, source, style}``, ``per_category`` per unsafe category."""
    rng = random.Random(seed)
    names = list(STYLES)
    weights = [STYLES[n][0] for n in names]
    rows: list[dict[str, str]] = []
    for scope, vocab in MODULES.items():
        wanted = benign if scope == "benign" else per_category
        seen: set[str] = set()
        attempts = 0
        while len(seen) < wanted and attempts < wanted * 20:
            attempts += 1
            style = rng.choices(names, weights)[0]
            if style == "sentence" and not vocab.SENTENCES:
                continue
            text = " ".join(STYLES[style][1](rng, vocab).split())
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            rows.append({"prompt": text, "scope": scope, "source": "synthetic", "style": style})
    return rows
