"""``/colab/connect`` in process: the URL, the checks, and who may see them."""

from __future__ import annotations

import json
import sys

import pytest
from tornado.httpclient import HTTPClientError

from colab_local.diagnostics import kernel_probe, kernels
from tests_support import colab_client as colab


async def connect_json(jp_fetch, **kwargs):
    response = await jp_fetch("colab", "connect", params={"format": "json"}, **kwargs)
    return json.loads(response.body)


async def test_json_reports_the_url_that_works_for_colab(jp_fetch, jp_serverapp, http_root, token):
    report = await connect_json(jp_fetch)
    assert report["url"] == f"{http_root}?token={token}"
    assert report["tunnel_command"].startswith(f"ssh -N -L {jp_serverapp.port}:localhost:")
    assert report["versions"]["http_over_ws_protocol"] == "0.0.7"
    assert set(report["versions"]) == {"colab_local", "jupyter_server", "http_over_ws_protocol"}
    assert report["kernels"] == "on this server"
    names = [c["name"] for c in report["checks"]]
    assert names == [
        "colab-local loaded",
        "allowed origin",
        "credentials allowed",
        "port",
        "token",
        "listens on localhost only",
        "kernel",
        "accelerators",
        "google.colab",
        "colab's page",
        "browser",
    ]
    assert all(set(c) == {"name", "ok", "detail", "fix", "informational"} for c in report["checks"])

    # The URL it gives is the one Colab uses: it authenticates the tunnel.
    tunnel = await colab.open_tunnel(http_root, report["url"].split("token=")[1])
    assert (await tunnel.request("GET", "/api/status")).status == 200
    tunnel.close()


async def test_accept_header_selects_json(jp_fetch):
    response = await jp_fetch("colab", "connect", headers={"Accept": "application/json"})
    assert response.headers["Content-Type"].startswith("application/json")
    assert "checks" in json.loads(response.body)


async def test_a_port_of_the_users_choice_is_healthy(jp_fetch, jp_serverapp):
    report = await connect_json(jp_fetch)  # pytest-jupyter picks a random port
    assert [c["name"] for c in report["checks"] if not c["ok"]] == []
    assert report["healthy"] is True
    port = next(c for c in report["checks"] if c["name"] == "port")
    assert port["detail"] == f"listening on {jp_serverapp.port}"


async def test_the_page_names_the_port_the_browser_used(jp_fetch, jp_serverapp, token):
    report = await connect_json(jp_fetch, headers={"Host": "localhost:9999"})
    assert report["url"] == f"http://localhost:9999/a%40b/?token={token}"
    assert report["laptop_port"] == 9999
    assert report["server_port"] == jp_serverapp.port
    assert report["tunnel_command"].startswith(f"ssh -N -L 9999:localhost:{jp_serverapp.port} ")


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_credentials=False"]])
async def test_html_page_shows_url_copy_button_steps_and_checks(jp_fetch, token):
    response = await jp_fetch("colab", "connect")
    page = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"?token={token}" in page
    assert 'id="copy"' in page
    assert "Connect to a local runtime" in page
    assert "ssh -N -L" in page
    assert "Fix: " in page  # the failing credentials check shows its fix
    assert "<link" not in page
    assert "src=" not in page  # self-contained: no external assets
    assert response.headers["Cache-Control"] == "no-store"


async def test_json_without_credentials_is_a_json_403_without_the_token(jp_fetch, token):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("colab", "connect", params={"format": "json"}, headers={"Authorization": ""})
    assert refused.value.code == 403
    response = refused.value.response
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {
        "status": 403,
        "message": "log in with the token or the login cookie",
    }
    assert token not in response.body.decode()


async def test_a_check_that_raises_is_a_failed_check_not_a_broken_page(jp_fetch, monkeypatch):
    async def broken(serverapp):
        raise RuntimeError("the kernelspec manager exploded")

    monkeypatch.setattr(kernels, "check_local_kernel", broken)
    report = await connect_json(jp_fetch)
    kernel = next(c for c in report["checks"] if c["name"] == "kernel")
    assert kernel["ok"] is False
    assert "RuntimeError: the kernelspec manager exploded" in kernel["detail"]
    assert report["healthy"] is False
    page = await jp_fetch("colab", "connect")
    assert page.code == 200


async def test_the_kernel_check_names_the_interpreter_jupyter_will_run(
    jp_fetch, monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no python on PATH at all
    report = await connect_json(jp_fetch)
    kernel = next(c for c in report["checks"] if c["name"] == "kernel")
    assert kernel["ok"] is True
    assert sys.executable in kernel["detail"]


async def test_the_probe_needs_a_login_and_xsrf_as_a_page_sends_it(http_root, token):
    async def probe(**headers):
        return await colab.direct_fetch(
            http_root,
            "colab/connect/kernel-probe",
            None,
            method="POST",
            body="",
            origin=None,
            headers=headers,
        )

    assert (await probe()).code == 403  # no credentials
    login = await colab.direct_fetch(http_root, "", token, origin=None, follow_redirects=False)
    cookies = dict(c.split(";", 1)[0].split("=", 1) for c in login.headers.get_list("Set-Cookie"))
    page = await colab.direct_fetch(http_root, "login", None, origin=None)
    xsrf = next(c for c in page.headers.get_list("Set-Cookie") if c.startswith("_xsrf="))
    cookies["_xsrf"] = xsrf.split(";", 1)[0].split("=", 1)[1]
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    assert (await probe(Cookie=cookie)).code == 403  # a cookie login without XSRF
    answered = await probe(Cookie=cookie, **{"X-XSRFToken": cookies["_xsrf"]})
    assert answered.code == 200, answered.body
    report = json.loads(answered.body)
    assert report["ok"] is True, report
    assert report["python"]["executable"] == sys.executable


async def test_browser_without_credentials_goes_to_login(jp_fetch, jp_base_url, token):
    response = await jp_fetch(
        "colab", "connect", headers={"Authorization": ""}, follow_redirects=False, raise_error=False
    )
    assert response.code == 302
    assert response.headers["Location"].startswith(f"{jp_base_url}login?next=")
    assert token not in response.body.decode()


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_unauthenticated_access=False"]])
async def test_works_when_unauthenticated_access_is_off(jp_fetch, jp_base_url):
    assert "url" in await connect_json(jp_fetch)
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("colab", "connect", params={"format": "json"}, headers={"Authorization": ""})
    assert refused.value.code == 403
    redirected = await jp_fetch(
        "colab", "connect", headers={"Authorization": ""}, follow_redirects=False, raise_error=False
    )
    assert redirected.code == 302
    assert "login" in redirected.headers["Location"]


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_origin=*"]])
async def test_wildcard_origin_fails_its_check_with_a_fix(jp_fetch):
    report = await connect_json(jp_fetch)
    origin = next(c for c in report["checks"] if c["name"] == "allowed origin")
    assert origin["ok"] is False
    assert "'*'" in origin["detail"]
    assert "https://colab.research.google.com" in origin["fix"]


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_credentials=False"]])
async def test_credentials_off_fails_its_check(jp_fetch):
    report = await connect_json(jp_fetch)
    check = next(c for c in report["checks"] if c["name"] == "credentials allowed")
    assert check["ok"] is False
    assert "allow_credentials" in check["fix"]


class FakeChannels:
    """A kernel's channels that answer a request with its messages in a given order."""

    def __init__(self, *kinds):
        self.kinds, self.queue = kinds, []

    def write_message(self, text):
        msg_id = json.loads(text)["header"]["msg_id"]
        contents = {
            "execute_reply": {"status": "ok"},
            "status": {"execution_state": "idle"},
            "stream": {"name": "stdout", "text": "out\n"},
        }
        self.queue = [
            json.dumps(
                {"msg_type": kind, "parent_header": {"msg_id": msg_id}, "content": contents[kind]}
            )
            for kind in self.kinds
        ]

    async def read_message(self):
        return self.queue.pop(0) if self.queue else None


@pytest.mark.parametrize(
    "order",
    [("stream", "execute_reply", "status"), ("stream", "status", "execute_reply")],
    ids=["reply-then-idle", "idle-then-reply"],
)
async def test_the_gateway_probe_waits_for_both_the_reply_and_idle_in_any_order(order):
    stdout = []
    reply = await kernel_probe._request(FakeChannels(*order), "execute_request", {}, stdout)
    assert reply == {"status": "ok"}
    assert stdout == ["out"]
