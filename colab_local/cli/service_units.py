"""systemd user units that keep the server running after logout, with the same URL.

The server unit runs ``jupyter notebook --no-browser`` with this environment's
interpreter, in a chosen directory, restarts it on failure, and passes no token: the
server uses the persisted token, so the URL saved in Colab never changes.

With ``--kernel-gateway``, kernels run in a second unit, a Jupyter Kernel Gateway on
loopback, and the server uses it (``--gateway-url``): restarting or upgrading the server
then leaves the kernels, and the notebooks' variables, alone. The two share a token kept
in a private environment file. On a shared machine each user's gateway has a port of its
own (derived from the uid), never moves off it (``port_retries=0``), and the server is
bound to its unit (``BindsTo=``) and checks that whoever listens there is its own user
(``startup.gateway_owner``): another user can neither take the port nor get the token.

Values are written as systemd.syntax(7) requires: ``%`` doubled (specifiers), ``$``
doubled and words quoted in ``ExecStart=`` (variables, whitespace, quotes, backslashes);
a path with a control character (a newline would start a new setting) is refused.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from pathlib import Path

from colab_local.private_files import (
    ensure_private_directory,
    locked,
    read_private,
    write_private,
)

UNIT_NAME = "colab-local.service"
KERNELS_UNIT_NAME = "colab-local-kernels.service"
MARKER = "# Written by `jupyter colab service --install` (colab-local)."
SYSTEMD_RUNTIME_MARKER = "/run/systemd/system"
#: Each user's Kernel Gateway listens on FIRST_GATEWAY_PORT + uid % GATEWAY_PORTS.
FIRST_GATEWAY_PORT = 20000
GATEWAY_PORTS = 20000


class UnitValueError(ValueError):
    """A value that a systemd unit cannot hold safely; the message names it."""


def kernel_gateway_port(uid: int | None = None) -> int:
    """This user's Kernel Gateway port: one per uid, so that users of one machine who all
    run ``--kernel-gateway`` do not meet (the server still checks who listens there)."""
    return FIRST_GATEWAY_PORT + (os.getuid() if uid is None else uid) % GATEWAY_PORTS


def _refuse_control_characters(value: str, what: str) -> str:
    bad = next((c for c in value if ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:
        raise UnitValueError(
            f"{what} {value!r} contains a control character ({bad!r}), which would change "
            "the systemd unit's meaning: rename it, or choose another with --directory"
        )
    return value


def unit_path(path: Path | str, what: str = "the path") -> str:
    """A path as a unit setting's value: specifiers escaped, control characters refused."""
    value = _refuse_control_characters(str(path), what)
    if value.endswith("\\"):
        raise UnitValueError(f"{what} {value!r} ends with a backslash, which continues the line")
    return value.replace("%", "%%")


def exec_command(argv: list[str]) -> str:
    """``argv`` as an ``ExecStart=`` value: each word quoted where systemd would split or
    unescape it, ``%`` and ``$`` doubled so systemd expands neither."""
    words = []
    for arg in argv:
        word = _refuse_control_characters(arg, "the command argument")
        word = word.replace("%", "%%").replace("$", "$$")
        if not word or any(c in word for c in " \t\"'\\;"):
            word = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
        words.append(word)
    return " ".join(words)


def server_command(
    python: str = sys.executable, as_root: bool | None = None, port: int | None = None
) -> list[str]:
    """``jupyter notebook`` as this environment runs it (root needs --allow-root)."""
    if as_root is None:
        as_root = os.getuid() == 0
    command = [python, "-m", "jupyter", "notebook", "--no-browser"]
    if as_root:
        command.append("--allow-root")
    if port is not None:
        command.append(f"--port={port}")
    return command


def unit_text(
    directory: Path,
    python: str = sys.executable,
    as_root: bool | None = None,
    port: int | None = None,
    gateway_env_file: Path | None = None,
) -> str:
    """The server's unit; with ``gateway_env_file``, using the kernel gateway unit."""
    command = server_command(python, as_root, port)
    after, environment = "network-online.target", ""
    if gateway_env_file is not None:
        command.append(f"--gateway-url=http://127.0.0.1:{kernel_gateway_port()}")
        # Bound to its gateway: never running against whatever else holds that port.
        after += f" {KERNELS_UNIT_NAME}\nBindsTo={KERNELS_UNIT_NAME}"
        environment = f"EnvironmentFile={unit_path(gateway_env_file, 'the environment file')}\n"
    return f"""{MARKER}
[Unit]
Description=Jupyter server for Google Colab (colab-local)
After={after}

[Service]
Type=simple
WorkingDirectory={unit_path(directory, "the directory")}
ExecStart={exec_command(command)}
{environment}Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=default.target
"""


def kernels_unit_text(directory: Path, gateway_env_file: Path, python: str = sys.executable) -> str:
    """A Jupyter Kernel Gateway on loopback, where the server's kernels run."""
    command = [
        python,
        "-m",
        "jupyter",
        "kernelgateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={kernel_gateway_port()}",
        # Never move to another port: the server would not find it, or find someone else.
        "--KernelGatewayApp.port_retries=0",
    ]
    return f"""{MARKER}
[Unit]
Description=Kernels for colab-local (Jupyter Kernel Gateway): they outlive server restarts
After=network-online.target

[Service]
Type=simple
WorkingDirectory={unit_path(directory, "the directory")}
ExecStart={exec_command(command)}
EnvironmentFile={unit_path(gateway_env_file, "the environment file")}
Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=default.target
"""


_GATEWAY_TOKEN_KEYS = ("KG_AUTH_TOKEN", "JUPYTER_GATEWAY_AUTH_TOKEN")


def write_gateway_env_file(path: Path) -> str:
    """The token the server and its kernel gateway share (0600), kept when it is private and
    whole; otherwise replaced. Returns why an existing file was replaced ("" if it was not).
    Raises PrivateFileError when its directory is not private."""
    ensure_private_directory(path.parent)
    with locked(path.parent):
        text, problem = read_private(path)
        if text is not None:
            values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
            tokens = {values.get(key) for key in _GATEWAY_TOKEN_KEYS}
            if len(tokens) == 1 and None not in tokens and "" not in tokens:
                return ""
            problem = "it does not hold one gateway token for both sides"
        token = secrets.token_urlsafe(32)
        # Kernel Gateway reads KG_*, jupyter_server's GatewayClient JUPYTER_GATEWAY_*.
        write_private(
            path,
            f"KG_AUTH_TOKEN={token}\nJUPYTER_GATEWAY_AUTH_TOKEN={token}\nKG_LIST_KERNELS=True\n",
        )
    if not problem:
        return ""
    return f"{path} was not used: {problem}. Wrote a new gateway token there."


def write_unit(path: Path, text: str) -> None:
    """A unit file, written as every colab-local file is (private directory, no symlink)."""
    ensure_private_directory(path.parent)
    write_private(path, text)


def user_unit_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "systemd" / "user"


def systemd_available(marker: str = SYSTEMD_RUNTIME_MARKER) -> bool:
    """systemd's own test (sd_booted): it runs this machine when this directory exists."""
    return Path(marker).is_dir()


def next_steps(user: str, units: list[str]) -> list[str]:
    return [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {' '.join(units)}",
        f"loginctl enable-linger {user}   # start at boot and keep running after you log out",
    ]


def without_systemd_hint(
    directory: Path, python: str = sys.executable, port: int | None = None
) -> str:
    """How to keep the server alive without systemd: in ``directory`` (as the unit's
    WorkingDirectory), with this environment's interpreter, so the right Jupyter runs, with
    --allow-root when needed."""
    command = shlex.join(server_command(python, port=port))
    where = shlex.quote(str(directory))
    return (
        "systemd is not running on this machine: keep the server alive with tmux instead: "
        f"tmux new -d -s colab -c {where} {shlex.quote(command)}  "
        f"(or: cd {where} && nohup {command} > jupyter.log 2>&1 &)"
    )
