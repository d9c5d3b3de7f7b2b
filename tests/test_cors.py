"""CORS: Chrome's Private Network Access grant for Colab's origin only; no foreign echo."""

from __future__ import annotations

import pytest

from colab_local.workarounds.cors import RESPONSE_HEADER
from tests_support.colab_client import COLAB_ORIGIN, direct_fetch

PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
    "Access-Control-Request-Private-Network": "true",
}


async def preflight(http_root, origin, **extra):
    return await direct_fetch(
        http_root,
        "api/sessions",
        None,
        method="OPTIONS",
        origin=origin,
        headers={**PREFLIGHT, **extra},
    )


async def test_colab_preflight_is_granted_private_network_access(http_root):
    response = await preflight(http_root, COLAB_ORIGIN)
    assert response.code == 200  # jupyter_server answers preflights 200 with no body
    assert response.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers[RESPONSE_HEADER] == "true"


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://colab.research.google.com.evil.example", None]
)
async def test_other_origins_get_no_private_network_access(http_root, origin):
    response = await preflight(http_root, origin)
    assert RESPONSE_HEADER not in response.headers
    # jupyter_server's preflight echoes any Origin; colab-local removes the echo.
    assert response.headers.get("Access-Control-Allow-Origin") in (None, COLAB_ORIGIN)


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
async def test_foreign_origin_is_never_echoed(http_root, token, method):
    response = await direct_fetch(
        http_root,
        "api/kernelspecs",
        token,
        method=method,
        origin="https://evil.example",
        headers={"Access-Control-Request-Headers": "authorization"},
    )
    assert "evil" not in response.headers.get("Access-Control-Allow-Origin", "")


@pytest.mark.parametrize("jp_argv", [[r"--ServerApp.allow_origin_pat=https://.*\.example\.org"]])
async def test_origin_pattern_still_echoes_matching_origins(http_root):
    response = await preflight(http_root, "https://app.example.org")
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    other = await preflight(http_root, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_preflight_without_the_pna_request_gets_no_grant(http_root):
    headers = {k: v for k, v in PREFLIGHT.items() if "Private" not in k}
    response = await direct_fetch(
        http_root, "api/sessions", None, method="OPTIONS", headers=headers
    )
    assert RESPONSE_HEADER not in response.headers


async def test_plain_requests_get_no_grant(http_root, token):
    response = await direct_fetch(
        http_root, "api/sessions", token, headers={"Access-Control-Request-Private-Network": "true"}
    )
    assert response.code == 200
    assert RESPONSE_HEADER not in response.headers


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_origin=*"]])
async def test_wildcard_origin_grants_colab_only(http_root):
    colab = await preflight(http_root, COLAB_ORIGIN)
    assert colab.headers[RESPONSE_HEADER] == "true"
    other = await preflight(http_root, "https://evil.example")
    assert other.headers["Access-Control-Allow-Origin"] == "https://evil.example"  # Jupyter's echo
    assert RESPONSE_HEADER not in other.headers


@pytest.mark.parametrize("jp_argv", [["--ColabLocal.private_network_access=False"]])
async def test_grant_can_be_turned_off(http_root):
    response = await preflight(http_root, COLAB_ORIGIN)
    assert RESPONSE_HEADER not in response.headers
