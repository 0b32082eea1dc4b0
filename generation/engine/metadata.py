"""AI-generation metadata in PNG text chunks and an XMP packet.

Every PNG written by ``png_with_metadata`` carries:
- XMP (iTXt ``XML:com.adobe.xmp``, uncompressed so XMP readers find it):
  ``Iptc4xmpExt:DigitalSourceType`` = IPTC ``trainedAlgorithmicMedia``,
  ``Iptc4xmpExt:AISystemUsed`` (model), ``xmp:CreatorTool`` (generator), and
  ``imagegate:ImageId``, ``imagegate:GenerationId``, ``imagegate:Model``,
  ``imagegate:Watermarked``; when the user opts out of distribution, also
  ``imagegate:NoDistribution="True"``, ``plus:DataMining`` = PLUS ``DMI-PROHIBITED``
  and ``xmpRights:UsageTerms``.
- tEXt: ``Software`` (generator), ``Source`` (model), ``Comment`` (a plain-language
  AI-generated notice), ``imagegate:*`` mirrors of the ids, and ``Disclaimer`` when
  distribution is not allowed.

Rules: metadata is a claim, not proof (anyone can strip or forge it); the verify
path trusts the watermark and C2PA, and reports metadata only as found. Parsing
rejects XMP with a DOCTYPE or entities (no entity expansion) and relies on Pillow's
text-chunk size limits.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from PIL.Image import Image

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DMI_PROHIBITED = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
NO_DISTRIBUTION_TERMS = (
    "Not for distribution: the creator asked that this AI-generated image not be "
    "redistributed or used for AI training."
)
XMP_KEY = "XML:com.adobe.xmp"

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "imagegate": "urn:imagegate:xmp:1.0/",
}


def build_xmp(
    *,
    image_id: str,
    generation_id: str,
    model_id: str,
    generator: str,
    no_distribution: bool,
    watermarked: bool = True,
) -> str:
    """The XMP packet (UTF-8 text) describing one generated image."""
    attrs = {
        "Iptc4xmpExt:DigitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "Iptc4xmpExt:AISystemUsed": model_id,
        "xmp:CreatorTool": generator,
        "imagegate:ImageId": image_id,
        "imagegate:GenerationId": generation_id,
        "imagegate:Model": model_id,
        "imagegate:Watermarked": "True" if watermarked else "False",
    }
    children = ""
    if no_distribution:
        attrs["imagegate:NoDistribution"] = "True"
        attrs["plus:DataMining"] = DMI_PROHIBITED
        children = (
            "<xmpRights:UsageTerms><rdf:Alt>"
            f'<rdf:li xml:lang="x-default">{escape(NO_DISTRIBUTION_TERMS)}</rdf:li>'
            "</rdf:Alt></xmpRights:UsageTerms>"
        )
    namespaces = " ".join(
        f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in NS.items() if prefix != "x"
    )
    attributes = " ".join(f"{name}={quoteattr(value)}" for name, value in attrs.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f"<rdf:RDF {namespaces}>"
        f'<rdf:Description rdf:about="" {attributes}>{children}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="r"?>'
    )


def png_with_metadata(
    img: Image,
    *,
    image_id: str,
    generation_id: str,
    model_id: str,
    generator: str = "Imagegate",
    no_distribution: bool,
    watermarked: bool = True,
) -> bytes:
    """Encode ``img`` as PNG with the text chunks and XMP packet described above."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", generator)
    info.add_text("Source", model_id)
    info.add_text(
        "Comment",
        f"AI-generated image made with {generator} (model {model_id}); IPTC digital "
        "source type: trainedAlgorithmicMedia.",
    )
    info.add_text("imagegate:image_id", str(image_id))
    info.add_text("imagegate:generation_id", str(generation_id))
    info.add_text("imagegate:model", model_id)
    info.add_text("imagegate:digital_source_type", TRAINED_ALGORITHMIC_MEDIA)
    if no_distribution:
        info.add_text("imagegate:no_distribution", "true")
        info.add_text("Disclaimer", NO_DISTRIBUTION_TERMS)
    xmp = build_xmp(
        image_id=str(image_id),
        generation_id=str(generation_id),
        model_id=model_id,
        generator=generator,
        no_distribution=no_distribution,
        watermarked=watermarked,
    )
    info.add_itxt(XMP_KEY, xmp, zip=False)
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def parse_xmp(xmp: str | bytes) -> dict[str, Any]:
    """The fields Imagegate writes, read from an XMP packet; {} when unparseable.

    Only the first ``rdf:Description`` is read, attributes and ``UsageTerms``.
    Packets with a DOCTYPE or ENTITY declaration are ignored.
    """
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return {}
    start = text.find("<x:xmpmeta")
    end = text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        return {}
    try:
        # Safe: DOCTYPE and ENTITY declarations were refused above, so nothing expands.
        root = ET.fromstring(text[start : end + len("</x:xmpmeta>")])  # noqa: S314
    except ET.ParseError:
        return {}
    description = root.find(".//rdf:Description", NS)
    if description is None:
        return {}

    def attr(prefix: str, name: str) -> str | None:
        return description.get(f"{{{NS[prefix]}}}{name}")

    usage = description.find("xmpRights:UsageTerms/rdf:Alt/rdf:li", NS)
    return {
        "digital_source_type": attr("Iptc4xmpExt", "DigitalSourceType"),
        "ai_system_used": attr("Iptc4xmpExt", "AISystemUsed"),
        "generator": attr("xmp", "CreatorTool"),
        "image_id": attr("imagegate", "ImageId"),
        "generation_id": attr("imagegate", "GenerationId"),
        "model_id": attr("imagegate", "Model"),
        "watermarked": attr("imagegate", "Watermarked"),
        "no_distribution": attr("imagegate", "NoDistribution"),
        "data_mining": attr("plus", "DataMining"),
        "usage_terms": usage.text if usage is not None else None,
    }


def metadata_from_image(img: Image) -> dict[str, Any]:
    """Imagegate metadata of an opened image (PNG text chunks and PNG/JPEG/WebP XMP).

    Keys: ``digital_source_type``, ``is_ai_generated``, ``generator``, ``model_id``,
    ``image_id``, ``generation_id``, ``no_distribution`` (bool), ``data_mining``,
    ``usage_terms``, ``watermarked`` (bool or None), ``has_xmp``, ``text`` (raw PNG
    text chunks, XMP excluded). XMP values win over text chunks.
    """
    text: dict[str, str] = {}
    raw_text = getattr(img, "text", None)
    if isinstance(raw_text, dict):
        text = {str(k): str(v) for k, v in raw_text.items()}
    xmp_raw = text.pop(XMP_KEY, None) or img.info.get("xmp") or img.info.get(XMP_KEY)
    xmp = parse_xmp(xmp_raw) if isinstance(xmp_raw, (str, bytes)) else {}

    def pick(xmp_key: str, text_key: str) -> str | None:
        value = xmp.get(xmp_key) or text.get(text_key)
        return str(value) if value else None

    source_type = pick("digital_source_type", "imagegate:digital_source_type")
    no_distribution = (xmp.get("no_distribution") or "").lower() == "true" or text.get(
        "imagegate:no_distribution", ""
    ).lower() == "true"
    watermarked = xmp.get("watermarked")
    return {
        "digital_source_type": source_type,
        "is_ai_generated": source_type == TRAINED_ALGORITHMIC_MEDIA,
        "generator": pick("generator", "Software"),
        "model_id": pick("model_id", "imagegate:model"),
        "image_id": pick("image_id", "imagegate:image_id"),
        "generation_id": pick("generation_id", "imagegate:generation_id"),
        "no_distribution": no_distribution,
        "data_mining": xmp.get("data_mining"),
        "usage_terms": xmp.get("usage_terms") or text.get("Disclaimer"),
        "watermarked": None if watermarked is None else watermarked == "True",
        "has_xmp": bool(xmp),
        "text": text,
    }


def read_metadata(png_bytes: bytes) -> dict[str, Any]:
    """``metadata_from_image`` of encoded image bytes (raises PIL's errors on bad bytes;
    use ``provenance.inspect_image`` for untrusted input)."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png_bytes)) as img:
        img.load()
        return metadata_from_image(img)
