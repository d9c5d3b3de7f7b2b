"""Is Colab reaching me? Requests of Colab's page noted in memory, in every flow, with the
reason a refused one was refused, and never the token (the browser's side, with Local
Network Access denied and allowed: tests/installed/test_browser_connect.py)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from colab_local.diagnostics.contact_notes import _refusal
from colab_local.diagnostics.contacts import (
    CONTACTS_KEPT,
    ORIGIN,
    PATH_KEPT,
    UNPROVEN_KEPT,
    Contact,
)
from colab_local.runtime import SETTINGS_KEY
from tests_support import colab_client as colab
from tests_support.colab_client import COLAB_ORIGIN, direct_fetch


async def report(http_root, token):
    response = await direct_fetch(http_root, "colab/connect?format=json", token, origin=None)
    assert response.code == 200
    return json.loads(response.body)


def page_check(answer):
    (check,) = [c for c in answer["checks"] if c["name"] == "colab's page"]
    return check


async def test_before_any_request_the_page_says_colab_has_not_reached_the_server(http_root, token):
    answer = await report(http_root, token)
    assert answer["colab_contacts"] == []
    check = page_check(answer)
    assert check["informational"] is True
    assert check["detail"].startswith("no request from Colab's page since the server started")
    assert "Local Network Access" in check["detail"]
    assert "tunnel is not running" in check["detail"]


async def test_a_direct_request_is_noted_without_its_query(http_root, token, jp_base_url):
    assert (await direct_fetch(http_root, "api/kernelspecs", token)).code == 200
    answer = await report(http_root, token)
    (contact,) = answer["colab_contacts"]
    assert contact["flow"] == "direct"
    assert contact["path"] == f"{jp_base_url}api/kernelspecs"
    assert (contact["method"], contact["status"], contact["refused"]) == ("GET", 200, None)
    assert 0 <= contact["seconds_ago"] < 60
    assert page_check(answer)["detail"].startswith("Colab's page reached this server ")
    assert "(direct flow, 200)" in page_check(answer)["detail"]
    assert token not in json.dumps(answer["colab_contacts"])


async def test_requests_of_other_origins_and_scripts_are_not_noted(http_root, token):
    await direct_fetch(http_root, "api/kernelspecs", token, origin="https://evil.example")
    await direct_fetch(http_root, "api/kernelspecs", token, origin=None)
    assert (await report(http_root, token))["colab_contacts"] == []


@pytest.mark.parametrize(
    ("given", "reason", "fix"),
    [
        ("not-the-token", "wrong token", "is not this server's: paste http://localhost:"),
        (None, "missing token", "has no token: paste http://localhost:"),
    ],
)
async def test_requests_without_the_token_say_why_but_never_make_the_server_unhealthy(
    http_root, token, given, reason, fix
):
    """Anyone who can reach the port can send Colab's Origin: no proof it was Colab."""
    assert (await direct_fetch(http_root, "api/sessions", given)).code == 403
    answer = await report(http_root, token)
    (contact,) = answer["colab_contacts"]
    assert (contact["status"], contact["refused"], contact["proven"]) == (403, reason, False)
    check = page_check(answer)
    assert check["ok"] is True
    assert check["informational"] is True
    assert check["detail"].startswith(
        f"requests with Colab's origin arrived without this server's token ({reason}, direct"
    )
    assert fix in check["fix"]
    assert answer["healthy"] is True


async def test_forged_tokenless_requests_never_displace_the_proven_ones(http_root, token):
    assert (await direct_fetch(http_root, "api/kernelspecs", token)).code == 200
    for _ in range(3 * CONTACTS_KEPT):
        await direct_fetch(http_root, "api/sessions", None)
    answer = await report(http_root, token)
    proven = [c for c in answer["colab_contacts"] if c["proven"]]
    assert [c["path"].rsplit("/", 1)[1] for c in proven] == ["kernelspecs"]
    assert len(answer["colab_contacts"]) == 1 + UNPROVEN_KEPT
    assert page_check(answer)["detail"].startswith("Colab's page reached this server ")
    assert answer["healthy"] is True


async def test_a_tokenless_404_with_colabs_origin_is_not_proof_of_a_visit(http_root, token):
    assert (await direct_fetch(http_root, "no/such/page", None)).code == 404
    answer = await report(http_root, token)
    (contact,) = answer["colab_contacts"]
    assert (contact["status"], contact["proven"]) == (404, False)
    assert not page_check(answer)["detail"].startswith("Colab's page reached this server")


async def test_a_long_path_is_kept_short(http_root, token):
    long_path = "/".join(["x" * 100] * 15)
    assert (await direct_fetch(http_root, f"api/contents/{long_path}", token)).code == 404
    (contact,) = (await report(http_root, token))["colab_contacts"]
    assert len(contact["path"]) == PATH_KEPT


def test_a_proven_request_refused_for_its_origin_uses_jupyters_full_match_rule():
    """The one origin rule: a pattern matching only a prefix of Colab's origin refuses it."""
    handler = SimpleNamespace(
        get_status=lambda: 403,
        request=SimpleNamespace(method="GET"),
    )
    prefix_only = SimpleNamespace(allow_origin="", allow_origin_pat="https://colab")
    assert _refusal(handler, prefix_only, "direct", proven=True) == ORIGIN
    whole = SimpleNamespace(allow_origin="", allow_origin_pat=r"https://colab\..*")
    assert _refusal(handler, whole, "direct", proven=True) is None


async def test_a_cookie_authenticated_post_without_xsrf_is_refused_for_xsrf(http_root, token):
    login = await direct_fetch(http_root, "tree", token, origin=None, follow_redirects=False)
    cookies = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    refused = await direct_fetch(
        http_root,
        "api/contents",
        None,
        method="POST",
        body={"type": "notebook"},
        headers={"Cookie": cookies},
    )
    assert refused.code == 403
    (contact,) = (await report(http_root, token))["colab_contacts"]
    assert (contact["method"], contact["refused"]) == ("POST", "XSRF")


async def test_the_tunnel_and_the_relayed_kernel_socket_are_noted_as_such(http_root, token):
    tunnel = await colab.open_tunnel(http_root, token)
    created = await tunnel.request("POST", "/api/sessions", colab.session_body("c.ipynb"))
    tunnel.close()
    channel = await colab.open_proxied_kernel(http_root, token, created.json()["kernel"]["id"], "s")
    channel.close()
    contacts = (await report(http_root, token))["colab_contacts"]
    flows = [(c["flow"], c["method"], c["status"], c["refused"]) for c in reversed(contacts)]
    # The relay's own hop to this server is the relayed socket's, not a direct contact.
    assert flows == [
        ("tunnel", "GET", 101, None),
        ("tunnel", "POST", 201, None),
        ("relayed kernel socket", "GET", 101, None),
    ]


async def test_a_tunnel_with_a_wrong_token_is_noted_as_refused(http_root, token):
    tunnel = await colab.open_tunnel(http_root, "not-the-token")
    answered = await tunnel.request("GET", "/api/sessions")
    tunnel.close()
    assert answered.status == 403
    contacts = (await report(http_root, token))["colab_contacts"]
    assert {(c["flow"], c["refused"]) for c in contacts} == {("tunnel", "wrong token")}, contacts


async def test_only_the_newest_contacts_are_kept(http_root, token, jp_serverapp):
    for _ in range(CONTACTS_KEPT + 10):
        await direct_fetch(http_root, "api/status", token)
    kept = jp_serverapp.web_app.settings[SETTINGS_KEY].contacts.recent()
    assert len(kept) == CONTACTS_KEPT
    assert all(contact.path.endswith("api/status") for contact in kept)


async def test_the_access_log_still_gets_every_request(http_root, token, caplog):
    with caplog.at_level("DEBUG"):
        await direct_fetch(http_root, "api/status", token, origin=COLAB_ORIGIN)
    assert any("GET" in r.getMessage() and "api/status" in r.getMessage() for r in caplog.records)


async def test_one_time_format_for_the_check_the_page_and_the_json(http_root, token, jp_serverapp):
    contacts = jp_serverapp.web_app.settings[SETTINGS_KEY].contacts
    contacts.note(Contact(time.time() - 293.4, "direct", "GET", "/api/status", 200))
    answer = await report(http_root, token)
    (contact,) = answer["colab_contacts"]
    assert contact["ago"] == "5 min ago"
    assert "reached this server 5 min ago" in page_check(answer)["detail"]
    page = await direct_fetch(http_root, "colab/connect", token, origin=None)
    assert "5 min ago" in page.body.decode()
    assert "293" not in page.body.decode()
