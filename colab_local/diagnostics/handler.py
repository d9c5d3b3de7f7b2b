"""``/colab/connect``: the exact URL to paste into Colab, and the server's health.

JSON for scripts (``Accept: application/json`` or ``?format=json``), a page for people.
Jupyter's own authentication guards it (token or login cookie): it shows the token, so
an unauthenticated browser goes to the login page and an unauthenticated script gets 403.
"""

from __future__ import annotations

import time
from http.client import responses
from typing import TYPE_CHECKING, Any

from jupyter_server import __version__ as jupyter_server_version
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from colab_local import __version__
from colab_local.connection_info import (
    LAPTOP_PORT,
    browser_port,
    server_colab_url,
    tunnel_command,
)
from colab_local.diagnostics.health import is_healthy, run_checks
from colab_local.diagnostics.kernel_probe import probe_kernel
from colab_local.diagnostics.kernels import where_kernels_run
from colab_local.diagnostics.page import render_connect_page
from colab_local.http_over_ws import handlers as tunnel
from colab_local.runtime import ColabHandlerMixin, ColabState

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

PATH = "/colab/connect"
PROBE_PATH = "/colab/connect/kernel-probe"


async def connection_report(
    serverapp: ServerApp, state: ColabState, laptop_port: int = LAPTOP_PORT
) -> dict[str, Any]:
    """Everything ``/colab/connect`` reports, as JSON-ready data.

    ``laptop_port``: the port the browser reached the page on (its end of the tunnel).
    """
    url = server_colab_url(serverapp, laptop_port)
    checks = await run_checks(serverapp, state, url)
    now = time.time()
    return {
        "url": url,
        "healthy": is_healthy(checks),
        "checks": [c.as_json() for c in checks],
        "laptop_port": laptop_port,
        "server_port": serverapp.port,
        "tunnel_command": tunnel_command(laptop_port, serverapp.port),
        "kernels": where_kernels_run(serverapp),
        "colab_contacts": [contact.as_json(now) for contact in state.contacts.recent()],
        "versions": {
            "colab_local": __version__,
            "jupyter_server": jupyter_server_version,
            "http_over_ws_protocol": tunnel.PROTOCOL_VERSION,
        },
    }


class ColabConnectHandler(ColabHandlerMixin, JupyterHandler):
    auth_resource = "server"

    def wants_json(self) -> bool:
        if self.get_query_argument("format", "") == "json":
            return True
        return "application/json" in self.request.headers.get("Accept", "")

    async def prepare(self) -> None:  # type: ignore[override]
        # Scripts get 403, not a redirect, also with allow_unauthenticated_access=False.
        await super().prepare(_redirect_to_login=not self.wants_json())

    def get_login_url(self) -> str:
        """People go to the login page; a script (JSON) gets 403, as from ``APIHandler``."""
        if self.wants_json():
            raise web.HTTPError(403, "log in with the token or the login cookie")
        url: str = super().get_login_url()
        return url

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors in the format asked for: JSON for scripts, Jupyter's page for people."""
        if not self.wants_json():
            super().write_error(status_code, **kwargs)
            return
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(error, "log_message", None) or responses.get(status_code, "error")
        self.set_header("Content-Type", "application/json")
        self.finish({"status": status_code, "message": message})

    def laptop_port_asked(self) -> int | None:
        """``?laptop_port=N`` (``jupyter colab doctor`` sends the laptop's end it was given,
        so its URL is the banner's and ``jupyter colab url``'s)."""
        asked = self.get_query_argument("laptop_port", "")
        if not asked:
            return None
        if not asked.isdigit() or not 0 < int(asked) < 65536:
            raise web.HTTPError(400, f"laptop_port must be a port number, not {asked[:20]!r}")
        return int(asked)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")  # the body carries the token
        # The port in the browser's Host header is where the user's tunnel ends: shown in
        # the URL and the SSH command, never used to connect anywhere.
        laptop_port = self.laptop_port_asked() or (
            browser_port(self.request.host, self.request.protocol) or LAPTOP_PORT
        )
        report = await connection_report(self.server, self.colab_state, laptop_port)
        if self.wants_json():
            self.set_header("Content-Type", "application/json")
            self.finish(report)
        else:
            probe_url = url_path_join(self.base_url, PROBE_PATH)
            self.finish(render_connect_page(report, probe_url, self.xsrf_token.decode()))


class KernelProbeHandler(ColabHandlerMixin, APIHandler):
    """``POST /colab/connect/kernel-probe``: start a kernel, ask what it sees, shut it down.

    A POST: it starts a kernel, so Jupyter's XSRF protection applies to cookie logins.
    """

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        state = self.colab_state
        result = await probe_kernel(
            self.server, state.probe_lock(), state.options.kernel_probe_timeout
        )
        self.set_header("Cache-Control", "no-store")
        self.finish(result)


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    return [
        (url_path_join(base_url, PATH), ColabConnectHandler),
        (url_path_join(base_url, PROBE_PATH), KernelProbeHandler),
    ]
