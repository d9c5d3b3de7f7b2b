"""The ServerApp settings Colab needs, applied at startup where the user has not chosen.

A ``jupyter_server_config.d`` JSON can only enable extensions, so these are applied in
code, in the extension's link phase: after config files and the command line are read,
before the web application reads them. An explicit user value always wins; when it will
stop Colab from connecting, one warning per setting says what Colab needs instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traitlets.config import Configurable
from traitlets.config.loader import DeferredConfig

from colab_local.config import COLAB_ORIGIN, COLAB_PORT, ColabLocal, origin_allowed

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


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


def user_value(serverapp: Configurable, name: str) -> tuple[bool, Any]:
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
    if origin_allowed(COLAB_ORIGIN, "", allow_origin_pat):
        return None
    if allow_origin_pat:
        return (
            f"ServerApp.allow_origin_pat={allow_origin_pat!r} does not match Colab's origin "
            f"{COLAB_ORIGIN!r}."
        )
    return f"ServerApp.allow_origin is empty: Colab needs allow_origin={COLAB_ORIGIN!r}."


def apply_colab_settings(serverapp: ServerApp, options: ColabLocal) -> dict[str, Any]:
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


def warn_about_colab_breaking_values(serverapp: ServerApp) -> None:
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
