"""Chrome's Private Network Access preflight answer, for the Colab origin only.

Chrome asks a page on a public origin (Colab) for permission before it talks to
``localhost``: the CORS preflight carries ``Access-Control-Request-Private-Network: true``
and must be answered with ``Access-Control-Allow-Private-Network: true``. jupyter_server
never sends it. A tornado output transform adds it to exactly those preflights whose
origin is Colab's and which Jupyter's own CORS check already accepted (the response
names that origin in ``Access-Control-Allow-Origin``), so it never widens access.
"""

from __future__ import annotations

from tornado import httputil
from tornado.web import OutputTransform

from colab_local.colab_settings import COLAB_ORIGIN

REQUEST_HEADER = "Access-Control-Request-Private-Network"
RESPONSE_HEADER = "Access-Control-Allow-Private-Network"


class PrivateNetworkAccessTransform(OutputTransform):
    """Adds the Private Network Access grant to Colab's preflights."""

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        self._is_colab_pna_preflight = (
            request.method == "OPTIONS"
            and request.headers.get("Origin") == COLAB_ORIGIN
            and request.headers.get(REQUEST_HEADER, "").strip().lower() == "true"
        )

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        if (
            self._is_colab_pna_preflight
            and headers.get("Access-Control-Allow-Origin") == COLAB_ORIGIN
        ):
            headers[RESPONSE_HEADER] = "true"
        return status_code, headers, chunk
