"""C2PA manifests (Content Credentials) with c2pa-python 0.38, fully offline.

Rules:
- Signing: ES256, certificate chain in PEM (leaf first, then intermediates), no
  timestamp authority (``ta_url=None``), no embedded thumbnail. The leaf must have
  CA=false, keyUsage digitalSignature and extendedKeyUsage emailProtection; c2pa
  rejects a leaf without EKU or with serverAuth/codeSigning.
- Intent CREATE with digital source type ``trainedAlgorithmicMedia``: c2pa writes a
  ``c2pa.created`` action carrying it. An ``org.imagegate.generation`` assertion
  records image id, generation id, model and the no-distribution choice; when
  distribution is refused a ``cawg.training-mining`` assertion says ``notAllowed``.
- Reading never touches the network: remote manifests and OCSP are not fetched.
  ``validation_state`` is ``Trusted`` when the chain ends in a configured trust
  anchor, ``Valid`` when the signature and hashes check but the signer is not
  anchored, ``Invalid`` when anything fails (such as edited pixels).
- Any re-encoding (PIL re-save, JPEG) strips the manifest: sign last.
"""

from __future__ import annotations

import io
import json
from typing import Any

GENERATION_ASSERTION = "org.imagegate.generation"
TRAINING_MINING_ASSERTION = "cawg.training-mining"
READER_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}
BUILDER_SETTINGS: dict[str, Any] = {"builder": {"thumbnail": {"enabled": False}}}


class C2paSigningError(RuntimeError):
    """Signing failed: bad certificate or key, unsupported format, library error."""


def _as_bytes(pem: str | bytes) -> bytes:
    return pem.encode("ascii") if isinstance(pem, str) else pem


def build_manifest(
    *,
    title: str,
    image_id: str,
    generation_id: str,
    model_id: str,
    no_distribution: bool,
    generator: str = "Imagegate",
    generator_version: str = "1",
    mime_type: str = "image/png",
) -> dict[str, Any]:
    """The manifest definition (before c2pa adds the created action and hashes)."""
    assertions: list[dict[str, Any]] = [
        {
            "label": GENERATION_ASSERTION,
            "data": {
                "image_id": image_id,
                "generation_id": generation_id,
                "model": model_id,
                "no_distribution": no_distribution,
            },
        }
    ]
    if no_distribution:
        not_allowed = {"use": "notAllowed"}
        assertions.append(
            {
                "label": TRAINING_MINING_ASSERTION,
                "data": {
                    "entries": {
                        "cawg.ai_generative_training": not_allowed,
                        "cawg.ai_training": not_allowed,
                        "cawg.data_mining": not_allowed,
                        "cawg.ai_inference": not_allowed,
                    }
                },
            }
        )
    return {
        "claim_generator_info": [{"name": generator, "version": generator_version}],
        "title": title,
        "format": mime_type,
        "assertions": assertions,
    }


def sign_c2pa(
    png_bytes: bytes,
    *,
    cert_pem: str | bytes,
    key_pem: str | bytes,
    title: str,
    model_id: str,
    image_id: str = "",
    generation_id: str = "",
    no_distribution: bool = False,
    generator: str = "Imagegate",
    mime_type: str = "image/png",
) -> bytes:
    """``png_bytes`` with an embedded, signed C2PA manifest (see module rules)."""
    import c2pa

    manifest = build_manifest(
        title=title,
        image_id=image_id,
        generation_id=generation_id,
        model_id=model_id,
        no_distribution=no_distribution,
        generator=generator,
        mime_type=mime_type,
    )
    try:
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, _as_bytes(cert_pem), _as_bytes(key_pem), None
        )
        with (
            c2pa.Context.from_dict(BUILDER_SETTINGS) as context,
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(json.dumps(manifest), context=context) as builder,
        ):
            builder.set_intent(
                c2pa.C2paBuilderIntent.CREATE,
                c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
            )
            out = io.BytesIO()
            builder.sign(signer, mime_type, io.BytesIO(png_bytes), out)
            return out.getvalue()
    except c2pa.C2paError as exc:
        raise C2paSigningError(str(exc)) from exc


def read_c2pa(
    data: bytes,
    *,
    mime_type: str = "image/png",
    trust_anchors_pem: str | None = None,
) -> dict[str, Any] | None:
    """The active manifest's validation and assertions, or None when there is none.

    Returns ``validation_state``, ``failures`` (codes), ``title``,
    ``claim_generator``, ``digital_source_type``, ``actions``, ``generation`` (the
    ``org.imagegate.generation`` data), ``training_mining``, ``signature`` (issuer,
    common name, algorithm). A manifest store that cannot be parsed answers
    ``{"validation_state": "Invalid", "error": ...}``.
    """
    import c2pa

    settings: dict[str, Any] = json.loads(json.dumps(READER_SETTINGS))
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
        settings["verify"]["verify_trust"] = True
    try:
        with c2pa.Context.from_dict(settings) as context:
            reader = c2pa.Reader.try_create(mime_type, io.BytesIO(data), None, context)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        return {"validation_state": "Invalid", "error": str(exc), "failures": []}
    return _summarise(store)


def _summarise(store: dict[str, Any]) -> dict[str, Any]:
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions: list[dict[str, Any]] = []
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        data = assertions.get(label)
        if isinstance(data, dict):
            actions.extend(a for a in data.get("actions", []) if isinstance(a, dict))
    source_type = next(
        (a.get("digitalSourceType") for a in actions if a.get("action") == "c2pa.created"),
        None,
    )
    results = store.get("validation_results", {}).get("activeManifest", {})
    signature = manifest.get("signature_info", {})
    return {
        "validation_state": store.get("validation_state"),
        "failures": [f.get("code") for f in results.get("failure", [])],
        "active_manifest": store.get("active_manifest"),
        "title": manifest.get("title"),
        "claim_generator": [g.get("name") for g in manifest.get("claim_generator_info", [])],
        "digital_source_type": source_type,
        "actions": actions,
        "generation": assertions.get(GENERATION_ASSERTION),
        "training_mining": assertions.get(TRAINING_MINING_ASSERTION),
        "signature": {
            "issuer": signature.get("issuer"),
            "common_name": signature.get("common_name"),
            "alg": signature.get("alg"),
        },
    }
