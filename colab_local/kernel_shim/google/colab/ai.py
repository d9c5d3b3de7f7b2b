"""google.colab.ai: hosted Colab only; importable here, its functions say what to do."""

from __future__ import annotations

from google.colab._stub import module_getattr

__getattr__ = module_getattr(
    "google.colab.ai", "use the model's own Python client with your API key (userdata.get)"
)
