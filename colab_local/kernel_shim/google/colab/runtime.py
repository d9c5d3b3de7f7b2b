"""google.colab.runtime: hosted Colab only; importable here, its functions say what to do."""

from __future__ import annotations

from google.colab._stub import module_getattr

__getattr__ = module_getattr(
    "google.colab.runtime", "the runtime is your server: stop it from its own shell"
)
