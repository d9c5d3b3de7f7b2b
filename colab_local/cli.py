"""``jupyter colab``: the URL to paste into Colab, and the persisted token.

Built like other Jupyter subcommands (jupyter_core's JupyterApp, traitlets settings), so
``jupyter colab --help-all`` documents colab-local's own ``ColabLocal`` settings too.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any, NoReturn
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_server.serverapp import ServerApp, list_running_servers
from jupyter_server.utils import url_path_join
from traitlets import Bool, Integer, Unicode

from colab_local._version import __version__
from colab_local.colab_settings import ColabLocal, user_value
from colab_local.connection_info import LAPTOP_PORT, colab_url, tunnel_command
from colab_local.server_token import token_path
from colab_local.service_unit import (
    MARKER,
    SYSTEMD_RUNTIME_MARKER,
    UNIT_NAME,
    next_steps,
    systemd_available,
    unit_text,
    user_unit_dir,
    without_systemd_hint,
)
from colab_local.token_store import TokenFileError, read, rotate

DOCTOR_TIMEOUT = 10


class _ColabSubcommand(JupyterApp):
    """Shared: reading the server's configuration the way ``jupyter notebook`` does."""

    version = __version__
    classes = [ColabLocal]

    def server_config(self) -> ServerApp:
        """A ServerApp with the user's config files and environment applied, not started."""
        server = ServerApp(log=self.log)
        server.load_config_file()
        server.update_config(self.config)
        return server

    def options(self, server: ServerApp) -> ColabLocal:
        return ColabLocal(config=server.config)

    def fail(self, message: str, status: int = 1) -> NoReturn:
        print(f"jupyter colab: {message}", file=sys.stderr)
        self.exit(status)
        raise SystemExit(status)  # for type checkers: exit() does not return


def configured_port(server: ServerApp) -> int:
    """The port the user's configuration gives, the old NotebookApp spelling included.

    Unset, it is ServerApp's default, which is Colab's 8888 (or JUPYTER_PORT).
    """
    _, port = user_value(server, "port")
    return int(port)


def running_colab_server(port: int) -> dict[str, Any] | None:
    """The running server's runtime info: the one on ``port``, else the newest."""
    servers: list[dict[str, Any]] = list(list_running_servers(jupyter_runtime_dir()))
    if not servers:
        return None
    on_port = [s for s in servers if s.get("port") == port]
    candidates = on_port or servers
    newest: dict[str, Any] = max(candidates, key=lambda s: s.get("pid", 0))
    return newest


class ColabUrlApp(_ColabSubcommand):
    name = "jupyter-colab-url"
    description = (
        "Print the URL to paste into Colab (Connect > Connect to a local runtime): from the "
        "running server when there is one, else from the persisted token and configured port. "
        "The URL names your laptop's end of the SSH tunnel (8888 unless --laptop-port)."
    )
    json = Bool(False, config=True, help="Print JSON for scripts.")
    laptop_port = Integer(
        LAPTOP_PORT,
        config=True,
        help="The port your SSH tunnel listens on, on the laptop (the port in Colab's URL).",
    )
    flags = {"json": ({"ColabUrlApp": {"json": True}}, "Print JSON for scripts.")}
    aliases = {"laptop-port": "ColabUrlApp.laptop_port"}

    def start(self) -> None:
        server = self.server_config()
        options = self.options(server)
        port = configured_port(server)
        running = running_colab_server(port)
        if running is not None:
            port, base_url, token = running["port"], running["base_url"], running.get("token", "")
            source = f"running server (pid {running['pid']})"
        else:
            path = token_path(options)
            try:
                token = read(path)
            except TokenFileError as e:
                self.fail(str(e))
            base_url, source = server.base_url, f"persisted token in {path} (no server running)"
        url = colab_url(self.laptop_port, base_url, token)
        command = tunnel_command(self.laptop_port, port)
        if self.json:
            print(
                json.dumps(
                    {
                        "url": url,
                        "laptop_port": self.laptop_port,
                        "server_port": port,
                        "base_url": base_url,
                        "source": source,
                        "running": running is not None,
                        "tunnel_command": command,
                    },
                    indent=2,
                )
            )
            return
        print(url)
        print(f"# from the {source}; on your laptop first: {command}", file=sys.stderr)


class ColabTokenApp(_ColabSubcommand):
    name = "jupyter-colab-token"
    description = "Say where the persisted token lives; --rotate writes a new one."
    rotate = Bool(False, config=True, help="Write a new token (the Colab URL changes).")
    flags = {"rotate": ({"ColabTokenApp": {"rotate": True}}, "Write a new token.")}

    def start(self) -> None:
        server = self.server_config()
        path = token_path(self.options(server))
        if self.rotate:
            try:
                rotate(path)
            except (TokenFileError, OSError) as e:
                self.fail(f"cannot write a new token to {path}: {e}")
            print(f"Wrote a new token to {path}.")
            if list(list_running_servers(jupyter_runtime_dir())):
                print(
                    "A running server keeps its old token until it restarts; then paste the "
                    "new URL (jupyter colab url) into Colab."
                )
            return
        try:
            read(path)
        except TokenFileError as e:
            self.fail(str(e))
        print(f"The token is in {path} (private: mode 0600). Print the URL: jupyter colab url")


class ColabDoctorApp(_ColabSubcommand):
    name = "jupyter-colab-doctor"
    description = (
        "Check the running server the way /colab/connect does and print each check with its "
        "fix. Exit status: 0 healthy, 1 not healthy, 2 no server reachable."
    )

    def start(self) -> None:
        server = self.server_config()
        port = configured_port(server)
        running = running_colab_server(port)
        if running is None:
            self.fail("no Jupyter server is running for this user; start one: jupyter notebook", 2)
        report = self.fetch_report(running)
        for check in report["checks"]:
            mark = "i" if check["informational"] else ("ok" if check["ok"] else "FAIL")
            print(f"[{mark:>4}] {check['name']}: {check['detail']}")
            if not check["ok"] and check["fix"]:
                print(f"       fix: {check['fix']}")
        print()
        print(f"URL to paste into Colab: {report['url']}")
        print(f"On your laptop first:    {report['tunnel_command']}")
        if not report["healthy"]:
            print("Not healthy: Colab cannot connect until the checks marked FAIL are fixed.")
            self.exit(1)

    def fetch_report(self, running: dict[str, Any]) -> dict[str, Any]:
        url = url_path_join(running["url"], "colab/connect") + "?format=json"
        token = running.get("token", "")
        request = Request(url, headers={"Authorization": f"token {token}"})  # noqa: S310
        try:
            # Only the URL of this user's own running server, from its runtime file.
            with urlopen(request, timeout=DOCTOR_TIMEOUT) as response:  # noqa: S310
                report: dict[str, Any] = json.load(response)
        except HTTPError as e:
            if e.code == HTTPStatus.NOT_FOUND:
                self.fail(
                    f"the server at {running['url']} (pid {running['pid']}) does not have "
                    "colab-local loaded: check `jupyter server extension list`, then restart it"
                )
            self.fail(f"the server at {running['url']} answered {e.code} {e.reason}", 2)
        except (URLError, OSError, ValueError) as e:
            self.fail(f"cannot reach the server at {running['url']}: {e}", 2)
        return report


class ColabServiceApp(_ColabSubcommand):
    name = "jupyter-colab-service"
    description = (
        "Print a systemd user unit that keeps `jupyter notebook` running for this user (same "
        "URL, restarted on failure); --install writes it, --uninstall removes it."
    )
    install = Bool(False, config=True, help="Write the unit to ~/.config/systemd/user.")
    uninstall = Bool(False, config=True, help="Remove the unit --install wrote.")
    directory = Unicode("", config=True, help="Working directory of the server (default: here).")
    port = Integer(
        0,
        config=True,
        help="The server's port (default: Jupyter's, 8888); on a shared server, one of your own.",
    )
    systemd_marker = Unicode(
        SYSTEMD_RUNTIME_MARKER,
        config=True,
        help="Directory whose presence means systemd runs this machine.",
    )
    flags = {
        "install": ({"ColabServiceApp": {"install": True}}, "Write the unit."),
        "uninstall": ({"ColabServiceApp": {"uninstall": True}}, "Remove the unit."),
    }
    aliases = {"directory": "ColabServiceApp.directory", "port": "ColabServiceApp.port"}

    def start(self) -> None:
        path = user_unit_dir() / UNIT_NAME
        if self.uninstall:
            self.remove(path)
            return
        directory = Path(self.directory or Path.cwd()).expanduser().resolve()
        if not directory.is_dir():
            self.fail(f"{directory} is not a directory")
        text = unit_text(directory, port=self.port or None)
        if not self.install:
            print(text, end="")
            port_option = f" --port {self.port}" if self.port else ""
            print(
                "# Install it: jupyter colab service --install "
                f"--directory {directory}{port_option}"
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"Wrote {path}. Then run:")
            for step in next_steps(getpass.getuser()):
                print(f"  {step}")
            print("The server keeps its persisted token, so the URL saved in Colab stays valid.")
        if not systemd_available(self.systemd_marker):
            print(without_systemd_hint())

    def remove(self, path: Path) -> None:
        if not path.exists():
            print(f"Nothing to remove: {path} does not exist.")
            return
        if MARKER not in path.read_text(errors="replace"):
            self.fail(f"{path} was not written by jupyter colab service; left alone")
        path.unlink()
        print(f"Removed {path}. If it was enabled: systemctl --user disable --now {UNIT_NAME}")


class ColabApp(JupyterApp):
    name = "jupyter-colab"
    version = __version__
    description = "Connect Google Colab to this machine's Jupyter server (colab-local)."
    classes = [ColabLocal]
    subcommands = {
        "url": (ColabUrlApp, ColabUrlApp.description),
        "token": (ColabTokenApp, ColabTokenApp.description),
        "doctor": (ColabDoctorApp, ColabDoctorApp.description),
        "service": (ColabServiceApp, ColabServiceApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            self.print_help()
            self.fail_without_subcommand()
        super().start()

    def fail_without_subcommand(self) -> None:
        print(f"jupyter colab: choose a subcommand: {', '.join(self.subcommands)}", file=sys.stderr)
        self.exit(1)


def main() -> None:
    logging.captureWarnings(True)
    ColabApp.launch_instance()


if __name__ == "__main__":
    main()
