"""The fake endpoints of jupyter_http_over_ws's own tests, as a jupyter_server extension.

googlecolab/jupyter_http_over_ws pins its wire behaviour with tests against a bare tornado
application holding a few fake handlers. To run those cases black-box against a real
``jupyter notebook`` (with colab-local installed), this extension serves equivalent fakes
under ``/upstream-fakes/``. Enable it with
``--ServerApp.jpserver_extensions={"tests_support.upstream_fakes": True}`` and
``PYTHONPATH`` containing the tests directory. For tests only: no authentication.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join
from tornado import web, websocket

PREFIX = "upstream-fakes"
TEST_XSRF_HEADER = "Propagated-Xsrf"


class _NoXsrfCheck(web.RequestHandler):
    """Upstream's fake application has no XSRF protection; Jupyter's has (globally)."""

    def check_xsrf_cookie(self) -> None:
        pass


class FakeSessionsHandler(_NoXsrfCheck):
    SUPPORTED_METHODS = (*web.RequestHandler.SUPPORTED_METHODS, "CUSTOMMETHOD")

    def get(self) -> None:
        if self.get_argument("throw_500", default=None):
            self.set_status(500, "Server error")
            return
        self.write("ok")

    def custommethod(self) -> None:
        self.write("ok")

    def post(self) -> None:
        xsrf = self.get_query_argument("_xsrf", default=None)
        if xsrf:
            self.set_header(TEST_XSRF_HEADER, xsrf)
        self.write(self.request.body)


class FakeStreamedResponseHandler(web.RequestHandler):
    async def get(self) -> None:
        self.write("first")
        await self.flush()
        self.write("last")
        await self.flush()
        self.finish()


class LargeStreamedResponseHandler(web.RequestHandler):
    async def get(self) -> None:
        self.write("a" * 100000)
        await self.flush()
        self.finish()


class EchoingWebSocketHandler(websocket.WebSocketHandler):
    def open(self, *args: Any, **kwargs: Any) -> None:
        self.write_message(
            f"<ECHO INIT> {self.request.method} {self.request.uri} "
            f"X-Echo-Header: {self.request.headers.get('X-Echo-Header')}"
        )

    def on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self.write_message(b"<ECHO RESPONSE> " + message, binary=True)
        else:
            self.write_message(f"<ECHO RESPONSE> {message}")

    def check_origin(self, origin: str) -> bool:
        return True


class CloseOnFirstMessageWebSocketHandler(websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.close(code=500)

    def check_origin(self, origin: str) -> bool:
        return True


HANDLERS = [
    ("sessions", FakeSessionsHandler),
    ("streamedresponse", FakeStreamedResponseHandler),
    ("largeresponse", LargeStreamedResponseHandler),
    ("echoing-ws", EchoingWebSocketHandler),
    ("close-on-first-message-ws", CloseOnFirstMessageWebSocketHandler),
]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "tests_support.upstream_fakes"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$", [(url_path_join(base_url, PREFIX, path), handler) for path, handler in HANDLERS]
    )
