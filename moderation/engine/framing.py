"""Request and jailbreak framing, stripped before the classifier reads a prompt.

Rules:
- A prompt is often a request around a scene: "Generate a picture showing X",
  "please draw X", "can you make an image of X for my poster". The request says
  nothing about X, so the classifier reads X alone (``core``); the rules still read
  the whole prompt.
- A jailbreak wrapper ("ignore previous instructions", "you are in developer mode",
  "without any restrictions") is dropped the same way, so the scene behind it is
  scored as itself; the rules list these wrappers as the ``jailbreak`` indicator, which
  with a non-sexual category's hit holds the prompt for review (``rules.json`` combinations).
- Only leading framing is removed, one phrase after another (at most ``MAX_STRIPS``),
  on the normalised text (lower case, weights and accents gone); a prompt that is
  nothing but framing is kept as it is. The work is linear in the prompt's length.
"""

from __future__ import annotations

import re

MAX_STRIPS = 6

_VERB = (
    r"(?:generate|create|draw|make|render|paint|produce|design|depict|illustrate|imagine"
    r"|visuali[sz]e|show(?: me)?|give me|sketch|photograph|output|craft|compose|build)"
)
_MEDIUM = (
    r"(?:image|picture|photo|photograph|pic|illustration|drawing|painting|artwork|art"
    r"|render|rendering|poster|scene|portrait|sketch|graphic|visual|depiction|shot|still"
    r"|wallpaper|comic|cartoon|meme|infographic|diagram)s?"
)
_LEADING = [
    # politeness and addressing
    r"(?:please|pls|hey|hi|ok|okay|now|so|and|then)\b[ ,:]*",
    r"(?:can|could|would|will) you(?: please)?\b[ ,:]*",
    r"i (?:want|need|would like|'d like|d like)(?: you)?(?: to)?\b[ ,:]*",
    # jailbreak wrappers
    r"(?:ignore|disregard|forget)(?: all| any)?(?: of)?(?: the| your| my)?"
    r"(?: previous| prior| above| earlier| former)?"
    r" (?:instructions|rules|guidelines|prompts|restrictions|filters|policies|content policy)"
    r"\b[ ,.:;!]*(?:and\b)?[ ,:]*",
    r"(?:you are|you're|act as|pretend (?:to be|you are)|from now on you are)"
    r" (?:now )?(?:in )?(?:an? )?(?:unrestricted|unfiltered|uncensored|jailbroken"
    r"|developer mode|dan|evil|rogue)\b[^,.;:!]*[ ,.:;!]*(?:and\b)?[ ,:]*",
    r"(?:developer mode|dan mode|jailbreak mode|god mode) (?:on|enabled|activated)"
    r"\b[ ,.:;!]*",
    r"(?:with(?:out)?|no) (?:any )?(?:restrictions|filters|censorship|limits|rules)"
    r"\b[ ,.:;!]*",
    # the request itself
    _VERB
    + r"(?: (?:me|us))?(?: (?:(?:an?|the|one|some|\d+) )?(?:\w+ )?"
    + _MEDIUM
    + r"(?: (?:of|showing|that shows|depicting|with|about|where|in which|featuring|"
    r"illustrating|on|for))?)?\b[ ,:]*",
    r"(?:an?|the) " + r"(?:\w+ )?" + _MEDIUM + r" (?:of|showing|that shows|depicting|"
    r"featuring|illustrating|about|where|in which)\b[ ,:]*",
]
_PATTERNS = [re.compile(p) for p in _LEADING]


def core(text: str) -> str:
    """``text`` without its leading request and jailbreak framing (see module rules)."""
    rest = text.lstrip(" ,.:;!")
    for _ in range(MAX_STRIPS):
        for pattern in _PATTERNS:
            found = pattern.match(rest)
            if found and found.end() > 0:
                rest = rest[found.end() :].lstrip(" ,.:;!")
                break
        else:
            break
    return rest if rest.strip() else text
