"""What the colab-local server told its kernel (environment variables it sets)."""

from __future__ import annotations

import os
from pathlib import Path

#: Seconds a request to Colab's page waits when the page has never answered this kernel.
DEFAULT_PAGE_TIMEOUT = 30.0


def page_timeout() -> float:
    try:
        return float(os.environ.get("COLAB_LOCAL_PAGE_TIMEOUT", DEFAULT_PAGE_TIMEOUT))
    except ValueError:
        return DEFAULT_PAGE_TIMEOUT


def drive_directory() -> Path:
    configured = os.environ.get("COLAB_LOCAL_DRIVE_DIRECTORY")
    return Path(configured) if configured else Path.home() / "colab-drive"


def secrets_file() -> Path | None:
    configured = os.environ.get("COLAB_LOCAL_SECRETS_FILE")
    return Path(configured) if configured else None
