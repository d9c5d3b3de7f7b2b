"""The test helpers that decide what counts as a failure are themselves right."""

from __future__ import annotations

from tests_support.server_process import unexpected_tracebacks

JUPYTER_403 = """[W 2026-11-26 15:11:43.078 ServerApp] wrote error: 'Forbidden'
    Traceback (most recent call last):
      File "tornado/web.py", line 1767, in _execute
        result = method(*self.path_args, **self.path_kwargs)
    tornado.web.HTTPError: HTTP 403: Forbidden
[W 2026-11-26 15:11:43.080 ServerApp] 403 GET /api/sessions (@127.0.0.1) 2.27ms"""

OURS = """[E 2026-11-26 15:11:43.078 ServerApp] Uncaught exception GET /http_over_websocket
    Traceback (most recent call last):
      File "colab_local/http_over_ws/handlers.py", line 1, in on_message
    RuntimeError: boom"""


def test_jupyters_own_4xx_tracebacks_are_not_counted_but_others_are():
    assert unexpected_tracebacks(JUPYTER_403) == []
    found = unexpected_tracebacks(JUPYTER_403 + "\n" + OURS)
    assert len(found) == 1
    assert "RuntimeError: boom" in found[0]
