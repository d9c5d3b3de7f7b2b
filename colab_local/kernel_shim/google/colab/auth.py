"""google.colab.auth: Google credentials on your own server are Application Default
Credentials (``gcloud auth application-default login``), which Google's libraries find."""

from __future__ import annotations

import os
from pathlib import Path

from google.colab import errors


def _adc_file() -> Path:
    configured = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if configured:
        return Path(configured)
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    return Path(config) / "application_default_credentials.json"


def authenticate_user(clear_output: bool = True, project_id: str | None = None) -> None:
    """Succeeds when Application Default Credentials exist on this server."""
    credentials = _adc_file()
    if credentials.is_file():
        if project_id:
            os.environ.setdefault("GOOGLE_CLOUD_PROJECT", project_id)
        return
    raise errors.Error(
        f"no Google credentials on this server ({credentials} does not exist): run "
        "`gcloud auth application-default login` on the server once (or set "
        "GOOGLE_APPLICATION_CREDENTIALS to a service account key), then rerun this cell"
    )
