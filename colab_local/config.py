"""colab-local's own settings (``ColabLocal``) and the constants every part of it shares."""

from __future__ import annotations

import re

from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Configurable

COLAB_ORIGIN = "https://colab.research.google.com"


def origin_allowed(origin: str, allow_origin: str, allow_origin_pat: str) -> bool:
    """The one origin rule (CORS, the settings check, the contact notes): Jupyter's.
    ``allow_origin`` exactly (or ``*``), else the whole origin matching the pattern: a full
    match, as jupyter_server does since CVE-2026-40110 (older releases matched a prefix,
    which colab-local does not honour)."""
    if allow_origin:
        return allow_origin in ("*", origin)
    return bool(allow_origin_pat) and re.fullmatch(allow_origin_pat, origin) is not None


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
    google_colab = Bool(
        True,
        config=True,
        help=(
            "Give the Python kernels this server starts colab-local's google.colab (drive, "
            "userdata, files, output, patches, auth), so notebooks from hosted Colab run "
            "unchanged; a real google-colab in the kernel's environment always wins."
        ),
    )
    drive_directory = Unicode(
        "~/colab-drive",
        config=True,
        help="What drive.mount(...) links <mountpoint>/MyDrive to (created private).",
    )
    page_reply_timeout = Float(
        30.0,
        config=True,
        help=(
            "Seconds a kernel's google.colab waits for Colab's page to answer (eval_js, "
            "files.upload, userdata.get) while the page has never answered that kernel; "
            "once it has, it waits as hosted Colab does."
        ),
    )
    resource_monitor = Bool(
        True,
        config=True,
        help=(
            "Answer the calls Colab's page makes on Google's runtime image: "
            "/api/colab/resources (the RAM, disk and GPU monitor in Colab's toolbar), "
            "/api/colab/drive and /api/colab/build-info. False: 404, as plain Jupyter "
            "(in case a Colab change makes its page misbehave with them)."
        ),
    )
    gateway_kernel_check_interval = Float(
        10.0,
        config=True,
        help=(
            "With kernels on a gateway, seconds between asking the gateway whether an open "
            "kernel channel's kernel still exists (it is also asked when the channel opens "
            "and when the gateway's socket is lost). A kernel the gateway no longer has "
            "(culled, deleted, lost in a gateway restart) is reported dead to the notebook "
            "and its channel closed. 0: ask only on open and loss."
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
    relayed_websockets = List(
        Unicode(),
        [r"api/kernels/[^/?]+/channels", r"api/events/subscribe", r"terminals/websocket/[^/?]+"],
        config=True,
        help=(
            "The WebSockets /http_over_websocket/proxied_ws/<path> may relay to: regular "
            "expressions matched against the whole <path> (relative to base_url, without "
            "the query). Default: Jupyter's kernel channels, event stream and terminals. "
            "colab-local's own endpoints are never relayed, whatever this says, and nothing "
            "is relayed for a client that has not proved the token or a login cookie."
        ),
    )
    check_gateway_owner = Bool(
        True,
        config=True,
        help=(
            "With a gateway on this machine's loopback (--gateway-url=http://127.0.0.1:...), "
            "check before every request that the port is held by this server's own user: "
            "another user's listener would receive the gateway token and serve the kernels. "
            "Refused requests answer 503; found at start, the server does not start. False: "
            "no check (a gateway another user runs for you on purpose)."
        ),
    )
