"""The server's settings and its running instances, without importing the server.

What upstream does wrong: the only public ways to read a server's configuration
(``ServerApp().load_config_file()``) and to list running servers
(``jupyter_server.serverapp.list_running_servers``) live in ``jupyter_server.serverapp``,
whose import pulls jupyter_events, jsonschema's format checkers and rfc3987-syntax, which
builds its grammar at import: about 1.3 s of a ``jupyter colab url`` that otherwise takes
0.2 s (``python -X importtime -c 'import jupyter_server.serverapp'``).

The upstream change that removes this module: ``list_running_servers`` moved to a module
that imports only the standard library and jupyter_core (for example
``jupyter_server.utils``, re-exported from serverapp), and jupyter_events importing its
jsonschema validators when a schema is first validated, not at import. Once a released
jupyter_server imports serverapp in under 0.2 s, ``jupyter colab`` can use ServerApp itself.

What is read here is exactly what ``jupyter notebook`` reads for these settings: the same
JupyterApp config loading (``jupyter_config`` and ``jupyter_server_config`` on the same
paths, the command line), the same defaults (``JUPYTER_PORT``, base_url with slashes).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from jupyter_server.utils import check_pid
from traitlets import Integer, Unicode, default, validate

_RUNTIME_FILE = re.compile(r"jpserver-(.+)\.json")


class ServerApp(JupyterApp):  # named so: traitlets finds a class's settings by its name
    """The ServerApp settings ``jupyter colab`` reads, loaded as the server loads them.

    Never started; only ``port`` and ``base_url`` are read (with ``config`` for
    colab-local's own ``ColabLocal`` section and the deprecated ``NotebookApp`` one).
    """

    name = "jupyter-server"  # so config_file_name is jupyter_server_config, as the server's
    port = Integer(config=True, help="The server's port (ServerApp.port).")
    base_url = Unicode("/", config=True, help="The server's base URL (ServerApp.base_url).")

    @default("port")
    def _port_default(self) -> int:
        return int(os.getenv("JUPYTER_PORT", "8888"))

    @validate("base_url")
    def _base_url_slashes(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if not value.startswith("/"):
            value = "/" + value
        if not value.endswith("/"):
            value = value + "/"
        return value


def list_running_servers(runtime_dir: str) -> Iterator[dict[str, Any]]:
    """The runtime info of each server running in ``runtime_dir``, as jupyter_server's.

    Unlike upstream's, a stale file is skipped, not deleted: this is a read-only command.
    """
    directory = Path(runtime_dir)
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        if not _RUNTIME_FILE.fullmatch(path.name):
            continue
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and isinstance(info.get("pid"), int) and check_pid(info["pid"]):
            yield info
