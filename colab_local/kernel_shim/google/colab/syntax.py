"""google.colab.syntax: hosted Colab only; importable here, its functions say what to do."""

from __future__ import annotations

from google.colab._stub import module_getattr

__getattr__ = module_getattr("google.colab.syntax", "write the query or code as a plain string")
