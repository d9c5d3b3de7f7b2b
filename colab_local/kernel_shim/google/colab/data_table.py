"""google.colab.data_table: hosted Colab only; importable here, its functions say what to do."""

from __future__ import annotations

from google.colab._stub import module_getattr

__getattr__ = module_getattr(
    "google.colab.data_table", "display DataFrames as they are (pandas' own HTML)"
)
