"""CORS answers beyond jupyter_server's: Chrome's Private Network Access grant for Colab,
and no echo of an origin the server does not allow.

Chrome asks a page on a public origin (Colab) for permission before it talks to
``localhost``: the preflight carries ``Access-Control-Request-Private-Network: true`` and
must be answered with ``Access-Control-Allow-Private-Network: true``, which jupyter_server
never sends. And jupyter_server's preflight handler echoes *any* request Origin in
``Access-Control-Allow-Origin`` when the preflight asks for the Authorization header,
even when ``allow_origin`` names one origin. A tornado output transform fixes both on
every response: the grant goes only to Colab's origin, and only where Jupyter's own CORS
check accepted it; a foreign origin is never echoed when the user configured which
origins are allowed.
"""

from __future__ import annotations

from tornado import httputil
from tornado.web import OutputTransform

from colab_local.config import COLAB_ORIGIN, origin_allowed

REQUEST_HEADER = "Access-Control-Request-Private-Network"
RESPONSE_HEADER = "Access-Control-Allow-Private-Network"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


def cors_transform(
    allow_origin: str, allow_origin_pat: str, private_network_access: bool
) -> type[OutputTransform]:
    """The transform class for this server's origin settings."""
    origins_configured = bool(allow_origin or allow_origin_pat)

    class CorsTransform(OutputTransform):
        def __init__(self, request: httputil.HTTPServerRequest) -> None:
            self._origin = request.headers.get("Origin", "")
            self._pna_preflight = (
                private_network_access
                and request.method == "OPTIONS"
                and self._origin == COLAB_ORIGIN
                and request.headers.get(REQUEST_HEADER, "").strip().lower() == "true"
            )

        def transform_first_chunk(
            self,
            status_code: int,
            headers: httputil.HTTPHeaders,
            chunk: bytes,
            finishing: bool,
        ) -> tuple[int, httputil.HTTPHeaders, bytes]:
            echoed = headers.get(ALLOW_ORIGIN)
            if (
                origins_configured
                and echoed is not None
                and echoed != "*"
                and not origin_allowed(echoed, allow_origin, allow_origin_pat)
            ):
                del headers[ALLOW_ORIGIN]
            elif self._pna_preflight and headers.get(ALLOW_ORIGIN) == COLAB_ORIGIN:
                headers[RESPONSE_HEADER] = "true"
            return status_code, headers, chunk

    return CorsTransform
