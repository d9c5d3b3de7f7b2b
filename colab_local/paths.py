"""Every file location colab-local reads or writes, in one place.

All of them are in colab-local's own directory in the Jupyter data directory
(``jupyter --data-dir``), which ``private_files`` keeps private (0700, this user's).
``ColabLocal.token_file`` can move the token elsewhere (``server_token.token_path``).
"""

from __future__ import annotations

from pathlib import Path

from jupyter_core.paths import jupyter_data_dir


def data_directory() -> Path:
    """``colab_local`` in ``jupyter --data-dir``."""
    return Path(jupyter_data_dir()) / "colab_local"


def default_token_file() -> Path:
    """The persisted token, unless ``ColabLocal.token_file`` names another file."""
    return data_directory() / "token"


def secrets_file() -> Path:
    """This server's secrets for ``userdata.get`` (``jupyter colab secret``)."""
    return data_directory() / "secrets.json"


def download_links_directory() -> Path:
    """Where kernels write the one-time download links the server serves."""
    return data_directory() / "download-links"


def gateway_env_file() -> Path:
    """The token the server and its kernel gateway share (``jupyter colab service``)."""
    return data_directory() / "kernel-gateway.env"


def sessions_database(port: int) -> Path:
    """Where gateway sessions are kept for the server on ``port`` (one file per server)."""
    return data_directory() / f"sessions-{port}.db"
