"""All the checks behind ``/colab/connect`` and ``jupyter colab doctor``, run together.

No check can make the page fail: one that raises becomes a failed check naming the error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from colab_local.diagnostics import kernels, server_checks
from colab_local.diagnostics.check import Check
from colab_local.runtime import ColabState

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as e:
        return _failed(name, e)


async def _guarded_async(name: str, checks: Callable[[], Awaitable[list[Check]]]) -> list[Check]:
    try:
        return await checks()
    except Exception as e:
        return [_failed(name, e)]


def _failed(name: str, error: Exception) -> Check:
    return Check(
        name,
        False,
        f"the check itself failed: {type(error).__name__}: {error}",
        "see the server's log; please report it to colab-local",
    )


async def run_checks(serverapp: ServerApp, state: ColabState, colab_url: str) -> list[Check]:
    """``colab_url``: the URL to paste, as the contacts' fix names it."""
    configured_port = state.configured_port or serverapp.port
    checks = [
        _guarded("colab-local loaded", lambda: server_checks.check_extension(serverapp)),
        _guarded("allowed origin", lambda: server_checks.check_origin(serverapp)),
        _guarded("credentials allowed", lambda: server_checks.check_credentials(serverapp)),
        _guarded("port", lambda: server_checks.check_port(serverapp, configured_port)),
        _guarded(
            "token",
            lambda: server_checks.check_token(serverapp, state.options, state.persisted_token),
        ),
        _guarded("listens on localhost only", lambda: server_checks.check_bind(serverapp)),
    ]
    checks += await _guarded_async("kernel", lambda: kernels.kernel_checks(serverapp))
    checks += [
        _guarded("accelerators", lambda: kernels.check_gpu(serverapp, state.gpu_sampler)),
        _guarded("google.colab", lambda: kernels.check_google_colab(serverapp, state.options)),
        _guarded("colab's page", lambda: state.contacts.check(colab_url)),
        server_checks.check_browser(),
    ]
    return checks


def is_healthy(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if not c.informational)
