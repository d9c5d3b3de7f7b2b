"""Taking turns with concurrent test runs (CI runs two legs at once) for what the machine
has only once: Colab's port 8888 on the loopback, hosted Colab's ``/content``."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def machine_wide(resource: str) -> Iterator[None]:
    """Held while a test uses ``resource`` ("port-8888", "content"); other runs wait."""
    lock = Path(tempfile.gettempdir()) / f"colab-local-tests-{os.getuid()}-{resource}.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
