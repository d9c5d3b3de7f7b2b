"""Which token the server uses: the user's, or the persisted one.

Jupyter makes a new random token at every start, which breaks the URL saved in Colab.
At load time (the IdentityProvider exists, the server does not listen yet) colab-local
gives the IdentityProvider the persisted token, unless the user chose a token: configured
under any spelling, in any config file (extension apps' included, all read by then), or
through ``JUPYTER_TOKEN`` / ``JUPYTER_TOKEN_FILE``, which only the IdentityProvider's
default reads and which therefore must be respected here.

The token is set on the IdentityProvider itself, not into the configuration: traitlets
logs every configuration change in full at debug level, token included.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colab_local.config import ColabLocal
from colab_local.paths import default_token_file
from colab_local.server_config.token_store import TokenFileError, load_or_create

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

_TOKEN_SETTINGS = ("IdentityProvider", "PasswordIdentityProvider", "ServerApp", "NotebookApp")
_PASSWORD_SETTINGS = (
    ("PasswordIdentityProvider", "hashed_password"),
    ("IdentityProvider", "hashed_password"),
    ("ServerApp", "password"),
    ("NotebookApp", "password"),
)
TOKEN_ENV_VARS = ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE")


def token_path(options: ColabLocal) -> Path:
    return Path(options.token_file).expanduser() if options.token_file else default_token_file()


def explicit_token_source(config: Any, environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Where the user's own token comes from, or None when they did not choose one."""
    for section in _TOKEN_SETTINGS:
        if section in config and "token" in config[section]:
            return f"{section}.token"
    for name in TOKEN_ENV_VARS:
        if environ.get(name):
            return name
    return None


def password_configured(config: Any) -> bool:
    return any(
        section in config and bool(config[section].get(key, ""))
        for section, key in _PASSWORD_SETTINGS
    )


def apply_persisted_token(serverapp: ServerApp, options: ColabLocal) -> str | None:
    """Use the persisted token where the user has not chosen one; return it.

    Call at load time: after the IdentityProvider and the web application exist.
    """
    log = serverapp.log
    if not options.persist_token:
        log.info("colab_local | ColabLocal.persist_token=False: Jupyter chooses the token.")
        return None
    source = explicit_token_source(serverapp.config, os.environ)
    if source is not None:
        log.info("colab_local | using the token from %s; the persisted token is not used.", source)
        return None
    path = token_path(options)
    try:
        token, created = load_or_create(path, log)
    except (TokenFileError, OSError) as e:
        log.error(
            "colab_local | cannot use the persisted token at %s: %s. Jupyter makes a new "
            "token at every start, so the URL saved in Colab changes with each restart.",
            path,
            e,
        )
        return None
    identity_provider = serverapp.identity_provider
    identity_provider.token = token
    # Not generated: Jupyter then shows "?token=..." rather than the token in its own URLs,
    # as for any configured token; colab-local's banner shows the URL to paste.
    identity_provider.token_generated = False
    if "token" in serverapp.web_app.settings:  # the deprecated copy jupyter_server keeps
        serverapp.web_app.settings["token"] = token
    log.info(
        "colab_local | using the persisted token in %s%s.",
        path,
        " (created now)" if created else "",
    )
    if password_configured(serverapp.config):
        log.info(
            "colab_local | a password is configured: the persisted token works beside it, "
            "because Colab authenticates with ?token=. Set IdentityProvider.token='' to "
            "allow only the password."
        )
    return token
