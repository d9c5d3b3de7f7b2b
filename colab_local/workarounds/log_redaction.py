"""No token in any log line, whoever logs it.

jupyter_server scrubs tokens from its own access log lines, but other lines carry them:
tornado's warning for a 4xx names the whole request URI (``404 GET /api/...&token=...``),
jupyter_server's gateway manager logs ``started kernel: <id>, args: {... 'env': {...}}``
with the whole environment (``JUPYTER_TOKEN``, ``JUPYTER_GATEWAY_AUTH_TOKEN``, and whatever
else the user exported), and a traceback can quote an ``Authorization`` header.

A filter on the handlers of the server's logger (tornado's loggers propagate there) rewrites
every record before it is written: the server's secrets (its token, the gateway's token, the
token variables of its environment) and any URI parameter jupyter_server would scrub become
``[secret]``, ``Authorization`` values too, and an ``'env'`` mapping is left out. It is put
in place once the server listens, right after Jupyter and colab-local have printed the URL
to paste: those are the lines where a token belongs.
"""

from __future__ import annotations

import logging
import os
import re
import string
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

SECRET = "[secret]"  # noqa: S105 (what replaces a secret, not one)
#: Environment variables whose values are secrets wherever they turn up.
SECRET_ENV_VARS = ("JUPYTER_TOKEN", "JUPYTER_GATEWAY_AUTH_TOKEN", "KG_AUTH_TOKEN")
#: As jupyter_server's log scrubbing: any URI parameter whose name contains one of these.
SCRUBBED_NAME_PARTS = ("token", "auth", "key", "code", "state", "xsrf")
# Every pattern here is linear in the line's length, whatever the line (a log line can be
# a tokenless client's 64 KiB path): no class overlaps the separator that ends it, and no
# two repetitions can share a run of characters. Names and values are judged in Python.
#: One URI parameter: a separator, a name (no separator in it), "=", a value.
_PARAM = re.compile(r"(?P<name>[?&;][^=&;?\s'\"#]*=)(?P<value>[^&;?\s'\"#]*)")
_AUTHORIZATION = re.compile(
    r"(?P<name>authorization['\"]?[ \t]*[:=][ \t]*(?:['\"][ \t]*)?(?:token|bearer|basic)[ \t]+)"
    r"(?P<value>[^\s'\",}]+)",
    re.IGNORECASE,
)
#: A run of URL characters, which may spell a secret percent-encoded.
_URL_RUN = re.compile(r"[A-Za-z0-9._~%+=/?&;:-]+")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: Characters a token (``secrets.token_urlsafe``) or a URL may be made of.
_TOKEN_CHARACTERS = string.ascii_letters + string.digits + "-_.~%+"
#: A logged message is cut to this many characters: a tokenless client's long path
#: costs neither the event loop nor the log more than this.
LOGGED_CHARACTERS = 16 * 1024
#: How far a cut backs off to leave no token's beginning (Jupyter's are 48 characters).
_BACK_OFF = 128
_ENV_MAPPING = "'env': {"
#: Shorter values are not treated as secrets (they would match everywhere).
_MIN_SECRET_LENGTH = 8


def _without_env_mappings(text: str) -> str:
    """``text`` with each ``'env': {...}`` mapping's contents left out (braces matched)."""
    start = text.find(_ENV_MAPPING)
    while start != -1:
        opening = start + len(_ENV_MAPPING) - 1
        depth, end = 0, len(text)
        for index in range(opening, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                end = index
                break
        text = f"{text[: opening + 1]}...{text[end:]}"
        start = text.find(_ENV_MAPPING, opening + 1)
    return text


def _scrubbed_param(match: re.Match[str]) -> str:
    """The parameter with its value hidden if Jupyter would scrub its name, in any
    spelling it decodes (``%74oken`` is ``token`` to tornado's argument parser)."""
    value = match["value"]
    if not value or value.startswith("..."):  # "token=..." is already a placeholder
        return match[0]
    name = unquote_plus(match["name"]).lower()
    if any(part in name for part in SCRUBBED_NAME_PARTS):
        return match["name"] + SECRET
    return match[0]


def _without_encoded_secrets(text: str, secrets: list[str]) -> str:
    """Each run of URL characters that spells a secret once percent-decoded, hidden."""

    def hidden(match: re.Match[str]) -> str:
        run = match[0]
        if "+" in run or _PERCENT_ESCAPE.search(run):
            decoded = unquote_plus(run)
            if any(secret in decoded for secret in secrets):
                return SECRET
        return run

    return _URL_RUN.sub(hidden, text)


def shortened(text: str, secrets: Iterable[str] = (), limit: int = LOGGED_CHARACTERS) -> str:
    """``text`` cut to about ``limit`` characters, never inside a token or a secret (the cut
    backs off past token characters and any secret's beginning), saying how much was left
    out."""
    if len(text) <= limit:
        return text
    kept = text[: limit - _BACK_OFF] + text[limit - _BACK_OFF : limit].rstrip(_TOKEN_CHARACTERS)
    for secret in secrets:
        for length in range(len(secret) - 1, 0, -1):
            if kept.endswith(secret[:length]):
                kept = kept[:-length]
                break
    return f"{kept}[... {len(text) - len(kept)} characters not logged]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in it replaced by ``[secret]``."""
    if _ENV_MAPPING in text:
        text = _without_env_mappings(text)
    text = _PARAM.sub(_scrubbed_param, text)
    text = _AUTHORIZATION.sub(lambda m: m["name"] + SECRET, text)
    long_secrets = [secret for secret in secrets if len(secret) >= _MIN_SECRET_LENGTH]
    for secret in long_secrets:
        if secret in text:
            text = text.replace(secret, SECRET)
    if long_secrets and "%" in text:
        text = _without_encoded_secrets(text, long_secrets)
    return text


class SecretRedactor(logging.Filter):
    """Rewrites each record's message (and traceback) without secrets; drops nothing."""

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        super().__init__("colab_local.redaction")
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for s in self.secrets() if s]
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it itself
            return True
        cleaned = redact(shortened(message, secrets), secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True


def server_secrets(serverapp: ServerApp) -> Callable[[], list[str]]:
    """The secrets of ``serverapp``, read when a record is written (they may change)."""
    from jupyter_server.gateway.gateway_client import GatewayClient  # noqa: PLC0415

    def current() -> list[str]:
        found = [str(serverapp.identity_provider.token or "")]
        if GatewayClient.initialized():
            found.append(str(GatewayClient.instance().auth_token or ""))
        found += [os.environ.get(name, "") for name in SECRET_ENV_VARS]
        return found

    return current


def redact_server_logs(serverapp: ServerApp) -> SecretRedactor:
    """Put the redactor on every handler of the server's logger (and of the root logger,
    where a logging configuration may send records instead)."""
    redactor = SecretRedactor(server_secrets(serverapp))
    for logger in (serverapp.log, logging.getLogger()):
        for handler in logger.handlers:
            if not any(isinstance(f, SecretRedactor) for f in handler.filters):
                handler.addFilter(redactor)
    return redactor
