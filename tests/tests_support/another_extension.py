"""Another server extension, written as third parties write theirs: the tunnel must serve
its handlers as a direct connection does.

Enable it with ``--ServerApp.jpserver_extensions={"tests_support.another_extension": True}``
and ``PYTHONPATH`` containing the tests directory. Its handlers are Jupyter's
``APIHandler``s (the token and XSRF rules apply as to any API), under ``/another/``:

- ``PUT /another/upload``: ``@tornado.web.stream_request_body``, tornado's documented way
  to take a large upload; answers how many bytes and pieces arrived;
- ``POST /another/form``: the values of argument ``a`` (query and form body), as
  ``get_arguments`` sees them;
- ``GET /another/pieces?count=N``: N lines, each written and flushed on its own.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web


@web.stream_request_body
class UploadHandler(APIHandler):
    def prepare(self) -> None:
        self.received = 0
        self.pieces = 0
        return super().prepare()  # type: ignore[no-any-return]

    def data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self.pieces += 1

    @web.authenticated
    def put(self) -> None:
        self.finish({"received": self.received, "pieces": self.pieces})


class FormHandler(APIHandler):
    @web.authenticated
    def post(self) -> None:
        self.finish({"a": self.get_arguments("a")})


class PiecesHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        for number in range(int(self.get_argument("count", "40"))):
            self.write(f"piece {number}\n")
            await self.flush()
        self.finish()


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "tests_support.another_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    base_url = serverapp.web_app.settings["base_url"]
    handlers = [("upload", UploadHandler), ("form", FormHandler), ("pieces", PiecesHandler)]
    serverapp.web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "another", path), handler) for path, handler in handlers]
    )
