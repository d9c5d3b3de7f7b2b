"""Property: whatever a client sends on the tunnel, it gets one complete answer, a 400 for
anything that is not a valid request, the connection goes on, and the server logs no
traceback. Random and adversarial messages (hypothesis) against a real server."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests_support import colab_client as colab
from tests_support.raw_ws import BINARY, TEXT, RawWebSocket
from tests_support.server_process import running_server, unexpected_tracebacks

pytestmark = pytest.mark.installed

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Valid requests go where nothing happens: a request that changed the server (a POST to
# /api/shutdown, say) would be the client's right, not a finding.
SAFE_PREFIX = "/fuzz-nothing-here/"

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),  # surrogates included
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
message_ids = st.one_of(
    st.text(max_size=300), st.integers(min_value=-(2**60), max_value=2**60), json_values
)
methods = st.one_of(
    st.sampled_from(sorted(METHODS)), st.sampled_from(["get", "CONNECT"]), json_values
)
paths = st.one_of(
    st.text(max_size=30).map(lambda tail: SAFE_PREFIX + tail),
    st.text(max_size=30).filter(lambda path: not path.startswith("/")),
    st.sampled_from(["//evil.example/x", "http://evil.example/", SAFE_PREFIX + "a\r\nX: 1"]),
    json_values,
)
bodies = st.one_of(st.none(), st.text(max_size=50), st.binary(max_size=30).map(repr), json_values)
messages = st.fixed_dictionaries(
    {},
    optional={
        "message_id": message_ids,
        "method": methods,
        "path": paths,
        "body": bodies,
        "body_base64": st.one_of(st.text(max_size=20), st.just("aGk="), json_values),
        "extra": json_values,
    },
)


def is_valid(message):
    """The rules a request must meet (colab_local.http_over_ws.messages), as a test oracle."""
    if not isinstance(message, dict) or not {"message_id", "method", "path"} <= message.keys():
        return False
    mid, method, path = message["message_id"], message["method"], message["path"]
    if isinstance(mid, bool) or not (
        (isinstance(mid, str) and len(mid) <= 256) or (isinstance(mid, int) and abs(mid) < 2**53)
    ):
        return False
    if not isinstance(method, str) or method.upper() not in METHODS:
        return False
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return False
    if re.search(r"[\x00-\x20\x7f\\]", path) or re.search(r"[\ud800-\udfff]", path):
        return False
    body, body64 = message.get("body"), message.get("body_base64")
    if body is not None and (not isinstance(body, str) or re.search(r"[\ud800-\udfff]", body)):
        return False
    if body64 is not None and not isinstance(body64, str):
        return False
    return not (body64 and not re.fullmatch(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/=]{4})?", body64))


def encode(message):
    text = json.dumps(message, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # as sent: escaped, so valid UTF-8


@pytest.fixture(scope="module")
def tunnel(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("fuzz")) as server:
        auth = colab.auth_url(server.http_root, server.token)
        ws = RawWebSocket(
            server.port,
            f"/http_over_websocket?min_version=0.0.7&jupyter_http_over_ws_auth_url={auth}",
            {"Origin": colab.COLAB_ORIGIN},
        )
        try:
            yield ws, server
        finally:
            ws.close()
        assert server.proc.poll() is None
    assert unexpected_tracebacks(server.log) == []
    for marker in ("never retrieved", "Uncaught exception"):
        assert marker not in server.log


def answer(ws):
    messages = []
    while True:
        opcode, payload = ws.read_frame()
        assert opcode != 0x8, "the server closed the connection"
        messages.append(json.loads(payload))
        if messages[-1].get("done"):
            return messages


def check_answer(messages, sent):
    first = messages[0]
    assert isinstance(first["status"], int)
    if is_valid(sent):
        assert first["status"] != 400, first  # dispatched: Jupyter's answer (302, 403, 404)
        assert {m["message_id"] for m in messages} == {sent["message_id"]}
    else:
        assert first["status"] == 400, (sent, first)


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(message=messages, binary=st.booleans())
def test_any_message_gets_one_answer_and_the_connection_goes_on(tunnel, message, binary):
    ws, _ = tunnel
    ws.send_frame(encode(message), opcode=BINARY if binary else TEXT)
    check_answer(answer(ws), message)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(encode)))
def test_arbitrary_bytes_in_a_binary_frame_get_a_400(tunnel, raw):
    ws, _ = tunnel
    ws.send_frame(raw, opcode=BINARY)
    messages = answer(ws)
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        parsed = None
    assert messages[0]["status"] == 400 or is_valid(parsed)


def test_floats_that_json_allows_python_to_send(tunnel):
    """NaN and infinities parse in Python's json; as ids they are refused."""
    ws, _ = tunnel
    for value in (math.nan, math.inf, -math.inf, 1.5):
        ws.send_frame(encode({"message_id": value, "method": "GET", "path": "/"}))
        assert answer(ws)[0]["status"] == 400
