"""Every workaround for jupyter_http_over_ws 0.0.8 on today's Jupyter stack, in one place.

jupyter_http_over_ws (Google, last released 2020) implements the HTTP-over-WebSocket
protocol Colab speaks to local runtimes. colab-local serves that protocol with the
upstream handler classes; this module is the only place that knows how they are broken
on jupyter_server 2 / Notebook 7 / tornado >= 6.5 / Python >= 3.12, and how each defect
is answered. Each workaround names its defect (numbered as in the project notes) and
says when it can go.

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
working, wherever a config lists it: ``colab_local.legacy.import_hook`` (installed as a
.pth) imports it with these stand-ins, and ``silence_standalone_extension`` turns its own
loader into a no-op with a one-line hint, since colab-local already serves the endpoints.
``jupyter colab tidy`` removes the old setting.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import types
from collections.abc import Iterator
from typing import Any, cast

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join

from colab_local.legacy import import_hook

#: The upstream release whose defects this module answers. Bump only after checking each.
UPSTREAM_VERSION = "0.0.8"

_STRICT_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$", re.ASCII)


@functools.total_ordering
class StrictVersion:
    """The subset of ``distutils.version.StrictVersion`` that jupyter_http_over_ws uses.

    Defect 3: distutils is gone in Python 3.12. Same grammar as distutils: ``N.N[.N][{a|b}N]``;
    anything else raises ``ValueError``, which upstream turns into "Invalid min_version".
    """

    def __init__(self, vstring: str) -> None:
        match = _STRICT_VERSION.match(str(vstring))
        if match is None:
            raise ValueError(f"invalid version number {vstring!r}")
        major, minor, patch, pre_tag, pre_num = match.groups()
        self.version = (int(major), int(minor), int(patch or 0))
        self.prerelease = (pre_tag, int(pre_num)) if pre_tag else None
        self._text = vstring

    def _key(self) -> tuple[tuple[int, int, int], tuple[int, str, int]]:
        # A release sorts after its own pre-releases, as in distutils.
        pre = (0, *self.prerelease) if self.prerelease else (1, "", 0)
        return self.version, pre

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = StrictVersion(other)
        if not isinstance(other, StrictVersion):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if isinstance(other, str):
            other = StrictVersion(other)
        if not isinstance(other, StrictVersion):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"StrictVersion({self._text!r})"


def _stand_in_modules() -> dict[str, types.ModuleType]:
    """Modules jupyter_http_over_ws imports that no longer exist (defects 1 and 3)."""
    notebook_base = types.ModuleType("notebook.base")
    notebook_base_handlers = types.ModuleType("notebook.base.handlers")
    notebook_base_handlers.IPythonHandler = JupyterHandler  # type: ignore[attr-defined]
    notebook_base.handlers = notebook_base_handlers  # type: ignore[attr-defined]
    notebook_utils = types.ModuleType("notebook.utils")
    notebook_utils.url_path_join = url_path_join  # type: ignore[attr-defined]
    distutils = types.ModuleType("distutils")
    distutils_version = types.ModuleType("distutils.version")
    distutils_version.StrictVersion = StrictVersion  # type: ignore[attr-defined]
    distutils.version = distutils_version  # type: ignore[attr-defined]
    return {
        "notebook.base": notebook_base,
        "notebook.base.handlers": notebook_base_handlers,
        "notebook.utils": notebook_utils,
        "distutils": distutils,
        "distutils.version": distutils_version,
    }


@contextlib.contextmanager
def _temporary_modules(modules: dict[str, types.ModuleType]) -> Iterator[None]:
    """Put ``modules`` into ``sys.modules`` for the duration, then restore exactly what was there.

    Only the named submodules are touched: ``sys.modules["notebook"]`` (the real Notebook 7)
    is never replaced, and nothing stays behind for other code to trip over.
    """
    missing = object()
    saved = {name: sys.modules.get(name, missing) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is missing:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous  # type: ignore[assignment]


def stand_ins() -> contextlib.AbstractContextManager[None]:
    """The stand-in modules upstream's import needs, in place for a ``with`` block."""
    return _temporary_modules(_stand_in_modules())


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


def _standalone_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_http_over_ws"}]


def _standalone_load(serverapp: Any) -> None:
    serverapp.log.info(
        "jupyter_http_over_ws is enabled as an extension of its own (the old recipe): "
        "colab_local serves its endpoints already; `jupyter colab tidy` removes the setting."
    )


def silence_standalone_extension(package: types.ModuleType) -> None:
    """Let the old recipe's ``jupyter_http_over_ws`` extension load cleanly, doing nothing.

    Upstream's own loader registers unpatched handlers and ``print``s; with colab_local
    loaded (always first: "colab_local" sorts before it) the endpoints already exist.
    It also only offers the deprecated ``_jupyter_server_extension_paths``, which makes
    jupyter_server log a deprecation warning at every start.
    """
    package._jupyter_server_extension_points = _standalone_extension_points  # type: ignore[attr-defined]
    package._load_jupyter_server_extension = _standalone_load  # type: ignore[attr-defined]
