"""The ServerApp settings Colab needs, applied at startup where the user has not chosen.

A ``jupyter_server_config.d`` JSON can only enable extensions, so these are applied in
code, in the extension's link phase: after config files and the command line are read,
before the web application reads them. An explicit user value always wins; when it will
stop Colab from connecting, one warning per setting says what Colab needs instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Float, Integer, Unicode
from traitlets.config import Configurable
from traitlets.config.loader import DeferredConfig

COLAB_ORIGIN = "https://colab.research.google.com"


def data_directory() -> Path:
    """Where colab-local keeps its files: ``colab_local`` in ``jupyter --data-dir``."""
    return Path(jupyter_data_dir()) / "colab_local"


COLAB_PORT = 8888


class ColabLocal(Configurable):
    """colab-local's own settings (``c.ColabLocal.<name>`` or ``--ColabLocal.<name>=``)."""

    apply_colab_settings = Bool(
        True,
        config=True,
        help=(
            "Apply the ServerApp settings Colab needs where you have not set them "
            f"yourself: allow_origin={COLAB_ORIGIN!r}, allow_credentials=True, "
            f"port={COLAB_PORT}, port_retries=0. False leaves ServerApp exactly as configured."
        ),
    )
    private_network_access = Bool(
        True,
        config=True,
        help=(
            "Answer Chrome's Private Network Access preflights from the Colab origin "
            "(Access-Control-Allow-Private-Network: true). Never sent to other origins."
        ),
    )
    persist_token = Bool(
        True,
        config=True,
        help=(
            "When no token or password is configured, use a token stored in token_file "
            "(created on first start) instead of a new random token at every start, so "
            "the URL saved in Colab keeps working across restarts."
        ),
    )
    max_message_size = Integer(
        64 * 1024 * 1024,
        config=True,
        help=(
            "Largest message, in bytes, accepted on the HTTP-over-WebSocket endpoints from "
            "an authenticated client (a tunnelled upload arrives as one message); before "
            "authentication the limit is 1 MiB. A larger one closes the connection with "
            "code 1009 before it is read into memory."
        ),
    )
    stalled_client_timeout = Float(
        60.0,
        config=True,
        help=(
            "Seconds a tunnel client may read nothing of a response before it is "
            "disconnected, releasing what the response holds (an open file, buffers). "
            "0 waits forever."
        ),
    )
    keep_gateway_kernels = Bool(
        True,
        config=True,
        help=(
            "With kernels on a gateway (--gateway-url), keep sessions in a database file and "
            "leave the gateway's kernels running when this server stops, so that a restart "
            "or upgrade resumes each notebook's kernel. False: Jupyter's behaviour (kernels "
            "stop with the server, sessions are forgotten)."
        ),
    )
    kernel_probe_timeout = Float(
        120.0,
        config=True,
        help=(
            "Seconds the on-demand kernel probe (/colab/connect, jupyter colab doctor "
            "--kernel) may take, kernel start included, before it is abandoned."
        ),
    )
    token_file = Unicode(
        "",
        config=True,
        help=(
            "Where the persisted token lives. Default: colab_local/token in the Jupyter "
            "data directory (see `jupyter --data-dir`)."
        ),
    )


@dataclass(frozen=True)
class Setting:
    """One ServerApp trait Colab depends on."""

    name: str
    colab_value: Any


COLAB_SETTINGS = (
    Setting("allow_origin", COLAB_ORIGIN),
    Setting("allow_credentials", True),
    Setting("port", COLAB_PORT),
    Setting("port_retries", 0),
)

_ENV_VARS = {"port": "JUPYTER_PORT", "port_retries": "JUPYTER_PORT_RETRIES"}


def user_value(serverapp: Any, name: str) -> tuple[bool, Any]:
    """Whether the user set ServerApp.<name>, and to what.

    Explicit means: in the ServerApp or deprecated NotebookApp config section (config
    files and command line), in its environment variable, or given to the ServerApp
    constructor (a value other than the trait's default).
    """
    config = serverapp.config
    current = getattr(serverapp, name)
    if "ServerApp" in config and name in config["ServerApp"]:
        return True, current
    if "NotebookApp" in config and name in config["NotebookApp"]:
        value = config["NotebookApp"][name]
        if isinstance(value, DeferredConfig):  # command-line values stay text until applied
            value = value.get_value(serverapp.traits()[name])
        return True, value
    if name in _ENV_VARS and _ENV_VARS[name] in os.environ:
        return True, current
    if current != serverapp.trait_defaults(name):
        return True, current
    return False, current


def origin_problem(allow_origin: str, allow_origin_pat: str) -> str | None:
    """Why these origin settings keep Colab out, or None when Colab's origin is accepted."""
    if allow_origin == COLAB_ORIGIN:
        return None
    if allow_origin == "*":
        return (
            "ServerApp.allow_origin='*': Colab sends credentials, and browsers refuse "
            f"'*' for credentialed requests. Colab needs allow_origin={COLAB_ORIGIN!r}."
        )
    if allow_origin:
        return f"ServerApp.allow_origin={allow_origin!r} refuses Colab's origin {COLAB_ORIGIN!r}."
    if allow_origin_pat and re.fullmatch(allow_origin_pat, COLAB_ORIGIN):
        return None
    if allow_origin_pat:
        return (
            f"ServerApp.allow_origin_pat={allow_origin_pat!r} does not match Colab's origin "
            f"{COLAB_ORIGIN!r}."
        )
    return f"ServerApp.allow_origin is empty: Colab needs allow_origin={COLAB_ORIGIN!r}."


def apply_colab_settings(serverapp: Any, options: ColabLocal) -> dict[str, Any]:
    """Apply Colab's settings where the user has not chosen; return what was applied."""
    log = serverapp.log
    if not options.apply_colab_settings:
        log.info(
            "colab_local | ColabLocal.apply_colab_settings=False: ServerApp left as configured."
        )
        return {}
    applied: dict[str, Any] = {}
    for setting in COLAB_SETTINGS:
        explicit, value = user_value(serverapp, setting.name)
        if setting.name == "allow_origin" and not explicit:
            pat_explicit, _ = user_value(serverapp, "allow_origin_pat")
            # allow_origin takes precedence over a pattern: setting it would silently
            # override the user's choice.
            explicit = pat_explicit
        if explicit:
            # The deprecated NotebookApp spelling is honoured under `jupyter server` too.
            if getattr(serverapp, setting.name) != value:
                setattr(serverapp, setting.name, value)
            continue
        setattr(serverapp, setting.name, setting.colab_value)
        applied[setting.name] = setting.colab_value
    if applied:
        log.info(
            "colab_local | applied Colab settings: %s",
            ", ".join(f"ServerApp.{k}={v!r}" for k, v in applied.items()),
        )
    return applied


def warn_about_colab_breaking_values(serverapp: Any) -> None:
    """One warning per setting whose value will stop Colab from connecting.

    Called at load time: an extension app's own config file (jupyter_notebook_config)
    is applied after the link phase, so only then are the values final.
    """
    log = serverapp.log
    problem = origin_problem(serverapp.allow_origin, serverapp.allow_origin_pat)
    if problem:
        log.warning("colab_local | Colab cannot connect: %s", problem)
    if not serverapp.allow_credentials:
        log.warning(
            "colab_local | Colab cannot connect: ServerApp.allow_credentials=False; Colab "
            "sends credentials and needs allow_credentials=True."
        )
