"""A systemd user unit that keeps the server running after logout, with the same URL.

The unit runs ``jupyter notebook --no-browser`` with this environment's interpreter, in a
chosen directory, restarts it on failure, and passes no token: the server uses the
persisted token, so the URL saved in Colab never changes.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

UNIT_NAME = "colab-local.service"
MARKER = "# Written by `jupyter colab service --install` (colab-local)."
SYSTEMD_RUNTIME_MARKER = "/run/systemd/system"


def unit_text(
    directory: Path,
    python: str = sys.executable,
    as_root: bool | None = None,
    port: int | None = None,
) -> str:
    if as_root is None:
        as_root = os.getuid() == 0
    command = [python, "-m", "jupyter", "notebook", "--no-browser"]
    if as_root:
        command.append("--allow-root")
    if port is not None:
        command.append(f"--port={port}")
    return f"""{MARKER}
[Unit]
Description=Jupyter server for Google Colab (colab-local)
After=network-online.target

[Service]
Type=simple
WorkingDirectory={directory}
ExecStart={shlex.join(command)}
Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=default.target
"""


def user_unit_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "systemd" / "user"


def systemd_available(marker: str = SYSTEMD_RUNTIME_MARKER) -> bool:
    """systemd's own test (sd_booted): it runs this machine when this directory exists."""
    return Path(marker).is_dir()


def next_steps(user: str) -> list[str]:
    return [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {UNIT_NAME}",
        f"loginctl enable-linger {user}   # start at boot and keep running after you log out",
    ]


def without_systemd_hint() -> str:
    return (
        "systemd is not running on this machine: keep the server alive with tmux instead: "
        "tmux new -d -s colab 'jupyter notebook --no-browser'  "
        "(or: nohup jupyter notebook --no-browser > jupyter.log 2>&1 &)"
    )
