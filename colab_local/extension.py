"""Wiring into jupyter_server's two extension phases.

Link phase (before ServerApp creates its configurables and web application): apply the
settings Colab needs. Load phase (web application exists, not listening yet): the
persisted token, the endpoints, the Private Network Access answer, and checks of what
the user will meet.
Start phase (listening): print where to connect, then keep tokens out of every log line.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from colab_local.config import ColabLocal
from colab_local.connection_info import banner_lines
from colab_local.diagnostics import handler as connect_handler
from colab_local.diagnostics.contact_notes import note_colab_contacts
from colab_local.diagnostics.contacts import ContactLog
from colab_local.diagnostics.server_checks import check_bind, check_credentials, check_origin
from colab_local.http_over_ws import handlers as tunnel
from colab_local.kernel_support import download_links
from colab_local.kernel_support.download_links import prepare_download_links_directory
from colab_local.kernel_support.provisioner import give_kernels_google_colab
from colab_local.monitor import handlers as monitor
from colab_local.monitor.gpus import GpuSampler
from colab_local.private_files import PrivateFileError
from colab_local.runtime import SETTINGS_KEY, ColabState
from colab_local.server_config.colab_settings import (
    apply_colab_settings,
    warn_about_colab_breaking_values,
)
from colab_local.server_config.port_guard import explain_busy_port
from colab_local.server_config.server_token import apply_persisted_token
from colab_local.workarounds.cors import cors_transform
from colab_local.workarounds.gateway_channels import honest_gateway_channels
from colab_local.workarounds.gateway_kernels import keep_gateway_kernels
from colab_local.workarounds.gateway_owner import check_gateway_owner
from colab_local.workarounds.kernel_sockets import kernel_websockets_without_nagle
from colab_local.workarounds.log_redaction import redact_server_logs

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

_linked: WeakKeyDictionary[Any, ColabState] = WeakKeyDictionary()


def refuses_to_start(serverapp: ServerApp) -> bool:
    """Whether jupyter_server will exit at start: run as root without --allow-root.

    It says so itself, after the extensions loaded; colab-local stays silent then,
    rather than announce settings and a URL for a server that will not run.
    """
    return os.geteuid() == 0 and not serverapp.allow_root


def new_state(options: ColabLocal) -> ColabState:
    return ColabState(options, gpu_sampler=GpuSampler(), contacts=ContactLog())


def link(serverapp: ServerApp) -> None:
    if refuses_to_start(serverapp):
        return
    options = ColabLocal(parent=serverapp)
    apply_colab_settings(serverapp, options)
    check_gateway_owner(serverapp, options)
    keep_gateway_kernels(serverapp, options)
    give_kernels_google_colab(serverapp, options)
    _linked[serverapp] = new_state(options)


def load(serverapp: ServerApp) -> None:
    if refuses_to_start(serverapp):
        return
    state = _linked.pop(serverapp, None) or new_state(ColabLocal(parent=serverapp))
    state.persisted_token = apply_persisted_token(serverapp, state.options)
    state.configured_port = serverapp.port  # the HTTP server binds (and may move) later
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.settings[SETTINGS_KEY] = state
    web_app.add_handlers(  # type: ignore[no-untyped-call]
        ".*$", tunnel.handler_rules(base_url) + connect_handler.handler_rules(base_url)
    )
    if state.options.google_colab:
        try:
            prepare_download_links_directory()
            web_app.add_handlers(".*$", download_links.handler_rules(base_url))  # type: ignore[no-untyped-call]
        except (PrivateFileError, OSError) as e:
            serverapp.log.warning(
                "colab_local | no one-time download links (files.download without Colab's "
                "page): %s",
                e,
            )
    state.gpu_sampler.log = serverapp.log
    if state.options.resource_monitor:
        web_app.add_handlers(".*$", monitor.handler_rules(base_url))  # type: ignore[no-untyped-call]
    note_colab_contacts(serverapp, state.contacts)
    honest_gateway_channels(serverapp, state.options)
    kernel_websockets_without_nagle(serverapp)
    web_app.transforms.append(
        cors_transform(
            serverapp.allow_origin,
            serverapp.allow_origin_pat,
            state.options.private_network_access,
        )
    )
    warn_about_colab_breaking_values(serverapp)
    explain_busy_port(serverapp)
    serverapp.log.info(
        "colab_local | serving Colab's HTTP-over-WebSocket protocol %s at %s",
        tunnel.PROTOCOL_VERSION,
        tunnel.TunnelHandler.PATH,
    )


async def start(serverapp: ServerApp) -> None:
    """Runs once the server listens: the port in the banner is the bound one."""
    serverapp.web_app.settings[SETTINGS_KEY].gpu_sampler.demand()  # the page's first reading
    settings = (check_bind(serverapp), check_origin(serverapp), check_credentials(serverapp))
    problems = [f"{check.detail} Fix: {check.fix}" for check in settings if not check.ok]
    serverapp.log.info("\n".join(banner_lines(serverapp, problems)))
    # From now on no log line carries a token: the URL to paste has been printed.
    redact_server_logs(serverapp)
