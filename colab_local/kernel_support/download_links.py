"""One-time download links: where a kernel's ``files.download`` file is reachable when
Colab's page has not answered that kernel (its download JavaScript may never run).

The kernel's ``google.colab.files.download`` writes a link file (0600) into a private
directory of colab-local's (``download-links/<id>.json``: the file's path, its name, when
the link expires) and shows ``http://localhost:<port>/colab/download/<id>``. The id (256
random bits) is the only credential: the link carries no token, so the output cell Colab
saves with the notebook never holds the server's token. The first request consumes the
link (it is deleted before the file is sent), an expired one answers 410, and a link file
that is not a private regular file of this user is never used.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from colab_local.paths import download_links_directory
from colab_local.private_files import (
    PrivateFileError,
    ensure_private_directory,
    private_directory,
    read_private,
)
from colab_local.runtime import ColabHandlerMixin

PATH = "/colab/download/"
#: How long a link lives (the kernel writes the expiry; this is what it is told).
LINK_SECONDS = 600
CHUNK_BYTES = 1024 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def prepare_download_links_directory() -> Path:
    """At load time: the private directory kernels write link files into."""
    directory = download_links_directory()
    ensure_private_directory(directory)
    return directory


def _take_link(link_id: str) -> dict[str, Any] | None:
    """The link's record, deleted on the way (one time only); None if there is none, it
    is not a private regular file of this user (private_files' one rule), or the link
    directory is not private (checked at every use: another user could have replaced it)."""
    name = f"{link_id}.json"
    try:
        with private_directory(download_links_directory()) as links:
            text, _ = read_private(name, dir_fd=links)
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=links)  # the link itself, whatever it was
    except (PrivateFileError, OSError):
        return None
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _open_linked_file(record: dict[str, Any]) -> int | None:
    """The file the kernel named, opened: only the same regular file it recorded (device
    and inode), never through a symlink, never blocking (a FIFO put in its place)."""
    path, device, inode = record.get("path"), record.get("device"), record.get("inode")
    if not (isinstance(path, str) and isinstance(device, int) and isinstance(inode, int)):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (device, inode):
        os.close(fd)
        return None
    return fd


class DownloadLinkHandler(ColabHandlerMixin, JupyterHandler):
    """``/colab/download/<id>``: the file, once, without the token (the id is the key)."""

    auth_resource = "contents"

    def check_xsrf_cookie(self) -> None:
        """A GET of a capability link: nothing to protect from forgery."""

    @allow_unauthenticated
    async def get(self, link_id: str) -> None:
        self.set_header("Cache-Control", "no-store")
        record = _take_link(link_id) if _ID.fullmatch(link_id) else None
        if record is None:
            raise web.HTTPError(404, "no such download link (each works once)")
        expires = record.get("expires")
        if not isinstance(expires, (int, float)) or expires < time.time():
            raise web.HTTPError(410, "this download link has expired: download again")
        fd = _open_linked_file(record)
        if fd is None:
            raise web.HTTPError(404, "the file is gone or was replaced: download again")
        loop = IOLoop.current()
        with os.fdopen(fd, "rb", buffering=0) as source:
            name = record.get("name")
            if not isinstance(name, str) or not name:
                name = Path(str(record["path"])).name
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
            # Read off the event loop (a slow disk stalls no other request).
            while chunk := await loop.run_in_executor(None, source.read, CHUNK_BYTES):
                self.write(chunk)
                try:
                    await self.flush()  # one chunk in memory at a time
                except StreamClosedError:
                    return


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    return [(url_path_join(base_url, PATH, r"([^/]+)"), DownloadLinkHandler)]
