"""Image-generation engine: pure modules with no Django models.

- ``backend``: model configuration, the per-process pipeline cache and ``generate``
  (imports torch and diffusers lazily; worker processes only).
- ``tiny_model``: builds the random-weight TEST model (its images are noise).
- ``provenance``: watermark, PNG/XMP metadata, C2PA signing and inspection (no torch:
  safe to import in the web process).
"""
