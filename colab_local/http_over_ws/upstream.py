"""Every workaround for jupyter_http_over_ws 0.0.8 on today's Jupyter stack, in one place.

jupyter_http_over_ws (Google, last released 2020) implements the HTTP-over-WebSocket
protocol Colab speaks to local runtimes. colab-local serves that protocol with the
upstream handler classes; this module is the one catalogue of how they are broken on
jupyter_server 2 / Notebook 7 / tornado >= 6.5 / Python >= 3.12, and how each defect is
answered. Each workaround names its defect (numbered as in the project notes) and says
when it can go. The import-time answers (defects 1 and 3) live in
``colab_local.http_over_ws.stand_ins``, because the interpreter-start hook needs them without
importing the tunnel.

Defects:

1. ``import jupyter_http_over_ws`` fails: it imports ``notebook.base.handlers`` and
   ``notebook.utils``, which Notebook 7 removed. Answer: the import runs with
   *temporary* stand-ins for exactly those two submodules (and for ``distutils``, see 3),
   mapped onto jupyter_server; they are removed again right after, so the real
   ``notebook`` package is never replaced or altered. Goes when upstream imports
   jupyter_server.
2. The auth-URL handshake builds a Cookie header that starts with a space; tornado >= 6.5
   rejects it (``HTTPInputError: Invalid header value``). Answer: the handshake is not
   used at all (see 9): nothing is fetched, so no Cookie header is built.
3. ``from distutils import version`` fails on Python >= 3.12 (and warns before). Answer:
   a stand-in ``distutils.version`` providing ``StrictVersion`` during the import.
4. For HTTPS it requires ``config["NotebookApp"]["certfile"]``, which jupyter_server never
   fills, to verify its own loopback requests. Answer: tunnelled requests are answered in
   process (5) and relayed sockets connect only to this server's own listening socket
   (``relay``), whose identity needs no certificate check.
5. It re-fetches the auth URL for every tunnelled message, and answers each message with
   a new loopback HTTP request to the same server (about 3x a direct request). Answer:
   the handlers identify the client once per WebSocket connection, in process
   (``auth``), and dispatch tunnelled requests inside the server (``dispatch``).
6. Tunnelled GETs of non-API pages (``/files/...``) answer 403 "Blocking request from
   unknown origin": the proxied request has no Referer. Answer: dispatched requests carry
   a Referer naming the server itself, which is what a same-origin browser request carries.
7. The auth URL, token included, sits in the request URI, which upstream logs at INFO
   (the proxied socket's target) and tornado logs with every uncaught error. Answer: the
   handlers drop it from the URI once the query is parsed (also when percent-encoded).
8. A client that disconnects during a streamed response makes upstream's streaming
   callback raise into tornado, which logs "Uncaught exception" tracebacks, and a
   malformed message raises inside its handler so the client never hears back. Answer:
   in-server dispatch stops the handler through its connection-close path, and
   ``messages`` answers malformed messages with 400.
9. It trusts the client about where the server is. The auth URL is fetched at the host
   and port the client names (checked only against the ``Host`` header, which the client
   also sets), and ``proxied_ws`` connects to ``ws://<Host header>/...``. Behind an SSH
   tunnel whose laptop port differs from the server's, the fetch goes to whatever listens
   on that port on the server (which then receives the token), or nowhere
   (jupyter_http_over_ws#2); and without any token a client can make the server request
   any loopback port and relay a WebSocket there (a request forgery). Answer: nothing is
   fetched; the auth URL's token is checked by Jupyter's identity provider in process
   (``auth``), and relayed sockets are resolved to this server's own sockets (``relay``).

Enabling ``jupyter_http_over_ws`` as an extension of its own (the old recipe) keeps
working, wherever a config lists it: ``colab_local.http_over_ws.old_recipe_hook`` (installed as a
.pth) imports it with these stand-ins, and ``stand_ins.silence_standalone_extension`` turns its own
loader into a no-op with a one-line hint, since colab-local already serves the endpoints.
``jupyter colab tidy`` removes the old setting.
"""

from __future__ import annotations

import sys
import types
from typing import cast

from colab_local.http_over_ws import old_recipe_hook as import_hook

#: The upstream release whose defects this module answers. Bump only after checking each.
UPSTREAM_VERSION = "0.0.8"


def import_upstream_handlers() -> types.ModuleType:
    """Import ``jupyter_http_over_ws.handlers`` on today's stack (defects 1 and 3).

    Idempotent: a second call returns the module imported by the first.
    """
    already: types.ModuleType | None = sys.modules.get("jupyter_http_over_ws.handlers")
    if already is not None:
        return already
    # A failed earlier import (e.g. jupyter_server tried the old recipe's extension
    # first, in an install without the hook's .pth) can leave a half-initialised package
    # behind; start clean.
    sys.modules.pop("jupyter_http_over_ws", None)
    # One way to import upstream, wherever the import comes from: the hook the wheel's
    # .pth installs at start-up (installed here too, for a checkout installed editable).
    import_hook.install()
    from jupyter_http_over_ws import handlers  # noqa: PLC0415 (a top-level import: defect 1)

    return cast("types.ModuleType", handlers)
