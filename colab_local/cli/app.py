"""``jupyter colab``: the URL to paste into Colab, and the persisted token.

Built like other Jupyter subcommands (jupyter_core's JupyterApp, traitlets settings), so
``jupyter colab --help-all`` documents colab-local's own ``ColabLocal`` settings too.
"""

from __future__ import annotations

import json
import logging
import sys
from http import HTTPStatus
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_server.utils import url_path_join
from traitlets import Bool, Integer

from colab_local import __version__
from colab_local.cli.secret import ColabSecretApp
from colab_local.cli.service import ColabServiceApp
from colab_local.cli.subcommand import ColabSubcommand
from colab_local.cli.tidy import ColabTidyApp
from colab_local.config import ColabLocal
from colab_local.connection_info import LAPTOP_PORT, colab_url, tunnel_command
from colab_local.server_config.colab_settings import user_value
from colab_local.server_config.server_token import token_path
from colab_local.server_config.token_store import TokenFileError, read, rotate
from colab_local.workarounds.server_import_cost import ServerApp, list_running_servers

DOCTOR_TIMEOUT = 10


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


class ColabUrlApp(ColabSubcommand):
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
    aliases = {"laptop-port": "ColabUrlApp.laptop_port", "port": "ServerApp.port"}

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


class ColabTokenApp(ColabSubcommand):
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


class ColabDoctorApp(ColabSubcommand):
    name = "jupyter-colab-doctor"
    description = (
        "Check the running server the way /colab/connect does and print each check with its "
        "fix; --kernel also starts a short-lived kernel and reports what a notebook will see "
        "(Python, GPUs, torch/tensorflow/jax). Exit status: 0 healthy, 1 not healthy, 2 no "
        "server reachable."
    )
    kernel = Bool(
        False,
        config=True,
        help="Also start a short-lived kernel and report what a notebook will see.",
    )
    laptop_port = Integer(
        LAPTOP_PORT,
        config=True,
        help="The port your SSH tunnel listens on, on the laptop (the port in Colab's URL).",
    )
    flags = {"kernel": ({"ColabDoctorApp": {"kernel": True}}, "Also probe a kernel.")}
    aliases = {"laptop-port": "ColabDoctorApp.laptop_port", "port": "ServerApp.port"}

    def start(self) -> None:
        server = self.server_config()
        port = configured_port(server)
        running = running_colab_server(port)
        if running is None:
            self.fail("no Jupyter server is running for this user; start one: jupyter notebook", 2)
        report = self.request(
            running, f"colab/connect?format=json&laptop_port={self.laptop_port}", DOCTOR_TIMEOUT
        )
        for check in report["checks"]:
            mark = "i" if check["informational"] else ("ok" if check["ok"] else "FAIL")
            print(f"[{mark:>4}] {check['name']}: {check['detail']}")
            if not check["ok"] and check["fix"]:
                print(f"       fix: {check['fix']}")
        print()
        print(f"URL to paste into Colab: {report['url']}")
        print(f"On your laptop first:    {report['tunnel_command']}")
        healthy = report["healthy"]
        if not healthy:
            print("Not healthy: Colab cannot connect until the checks marked FAIL are fixed.")
        if self.kernel:
            timeout = self.options(server).kernel_probe_timeout + DOCTOR_TIMEOUT
            print()
            healthy = (
                self.print_probe(
                    self.request(running, "colab/connect/kernel-probe", timeout, method="POST")
                )
                and healthy
            )
        if not healthy:
            self.exit(1)

    @staticmethod
    def print_probe(probe: dict[str, Any]) -> bool:
        """Print what the probe kernel saw; whether it answered."""
        print(f"What the notebook will see (kernel {probe['kernel']!r}, {probe['where']}):")
        if not probe["ok"]:
            print(f"  FAIL: {probe['error']} (after {probe['seconds']} s)")
            return False
        python = probe["python"]
        print(f"  Python {python['version']} ({python['executable']})")
        gpus = probe["nvidia_smi"]
        print(f"  nvidia-smi -L: {'; '.join(gpus) or 'no GPU' if isinstance(gpus, list) else gpus}")
        print(f"  CUDA_VISIBLE_DEVICES: {probe['cuda_visible_devices'] or '(not set)'}")
        for name, framework in probe["frameworks"].items():
            if not framework["installed"]:
                seen = "not installed"
            elif "error" in framework:
                seen = f"fails to import: {framework['error']}"
            else:
                seen = f"{framework['version']}, GPUs seen: {framework['gpus']}"
            print(f"  {name}: {seen}")
        print(f"  (a kernel started, asked and shut down in {probe['seconds']} s)")
        return True

    def request(
        self, running: dict[str, Any], path: str, timeout: float, method: str = "GET"
    ) -> dict[str, Any]:
        """JSON from the running server, authenticated with its token."""
        url = url_path_join(running["url"], path)
        token = running.get("token", "")
        request = Request(  # noqa: S310
            url, method=method, headers={"Authorization": f"token {token}"}
        )
        try:
            # Only the URL of this user's own running server, from its runtime file.
            with urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.load(response)
        except HTTPError as e:
            if e.code == HTTPStatus.NOT_FOUND:
                self.fail(
                    f"the server at {running['url']} (pid {running['pid']}) does not have "
                    "colab-local loaded: check `jupyter server extension list`, then restart it"
                )
            self.fail(f"the server at {running['url']} answered {e.code} {e.reason}", 2)
        except (URLError, OSError, ValueError) as e:
            self.fail(f"cannot reach the server at {running['url']}: {e}", 2)
        return answer


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
        "tidy": (ColabTidyApp, ColabTidyApp.description),
        "secret": (ColabSecretApp, ColabSecretApp.description),
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
