"""This server's secrets for ``google.colab.userdata.get`` (``jupyter colab secret`` edits them).

One private file (0600, in colab-local's private data directory), written atomically and
under the directory's lock, through the directory's descriptor (checked once per change).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from colab_local.private_files import (
    ensure_private_directory,
    locked,
    private_directory,
    read_private,
    write_private,
)

#: As Colab's Secrets panel names them: letters, digits, underscores.
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SecretsError(Exception):
    """The secrets file cannot be used; the message says why."""


def load(path: Path, dir_fd: int | None = None) -> dict[str, str]:
    """The secrets in ``path`` (read in the directory ``dir_fd`` if given)."""
    text, problem = read_private(path.name if dir_fd is not None else path, dir_fd)
    if text is None:
        if problem:
            raise SecretsError(f"{path} was not used: {problem}")
        return {}
    try:
        secrets = json.loads(text)
    except ValueError as e:
        raise SecretsError(f"{path} is not JSON ({e}): fix or delete it") from None
    if not isinstance(secrets, dict):
        raise SecretsError(f"{path} is not a JSON object: fix or delete it")
    return {str(name): str(value) for name, value in secrets.items()}


def change(path: Path, name: str, value: str | None) -> bool:
    """Set ``name`` (``value``) or delete it (None); whether it was there before."""
    ensure_private_directory(path.parent)
    # The directory checked and opened once; the lock, the read and the write through it.
    with private_directory(path.parent) as directory, locked(directory):
        secrets = load(path, directory)
        existed = name in secrets
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value
        text = json.dumps(secrets, indent=1, sort_keys=True) + "\n"
        write_private(path.name, text, dir_fd=directory)
    return existed
