"""People in a real browser: today's Chrome against Colab's two flows, and the
``/colab/connect`` page, logged in, copied from, probed, and looked at.

Headless Chromium (Debian's chromium and chromium-driver, installed by .ci/run).
Screenshots are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests_support.fake_colab import HOST, fake_colab, public_colab_flags
from tests_support.gateway import running_gateway
from tests_support.server_process import JupyterProcess, run_jupyter, running_server

pytestmark = pytest.mark.installed

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (
    os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
WAIT = 30
FLOW_TIMEOUT = 120
COLAB_ORIGIN = f"https://{HOST}"


@contextlib.contextmanager
def chromium(profile: Path, *flags: str, width: int = 1280) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},1000",
        *flags,
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(FLOW_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page, however long, at the window's width."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 10_000
    return path


def run_flow(driver: webdriver.Chrome, flow: str, root: str, token: str, notebook: str) -> str:
    """Run COLAB.<flow> in the page; its output, or the error the page met."""
    return str(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"window.COLAB.{flow}(arguments[0], arguments[1], arguments[2], 'print(6 * 7)')"
            ".then(done, (e) => done('error: ' + e));",
            root,
            token,
            notebook,
        )
    )


def connect_report(server: JupyterProcess) -> dict[str, Any]:
    """``/colab/connect`` as a script asks for it (no Origin: not a contact itself)."""
    request = Request(
        f"{server.http_root}colab/connect?format=json",
        headers={"Authorization": f"token {server.token}"},
    )
    with urlopen(request, timeout=WAIT) as response:
        report: dict[str, Any] = json.load(response)
    return report


def contact_check(report: dict[str, Any]) -> dict[str, Any]:
    (check,) = [c for c in report["checks"] if c["name"] == "colab's page"]
    return check


def log_in(driver: webdriver.Chrome, url: str, token: str) -> None:
    driver.get(url)  # not logged in yet: Jupyter's login page
    password = WebDriverWait(driver, WAIT).until(
        expected_conditions.presence_of_element_located((By.ID, "password_input"))
    )
    assert token not in driver.page_source
    password.send_keys(token)
    password.submit()


def test_todays_chrome_blocks_both_flows_until_the_user_allows_local_access(tmp_path):
    """Chrome 142+ (Local Network Access): Colab's public page may reach localhost only
    once the user allows it. Denied, both flows fail as the user sees it; allowed (what
    the DevTools grant does), both run code end to end."""
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(tmp_path / "server"))
        page_port = stack.enter_context(fake_colab(tmp_path))
        driver = stack.enter_context(chromium(tmp_path / "profile", *public_colab_flags(page_port)))
        root, token = server.http_root, server.token
        driver.get(f"{COLAB_ORIGIN}/")
        assert driver.execute_script("return location.origin") == COLAB_ORIGIN
        assert driver.execute_script("return window.isSecureContext") is True

        assert run_flow(driver, "direct", root, token, "denied.ipynb") == (
            "error: TypeError: Failed to fetch"
        )
        blocked = run_flow(driver, "tunnel", root, token, "denied.ipynb")
        ws_root = root.replace("http", "ws", 1)
        assert blocked == f"error: Error: WebSocket error: {ws_root}http_over_websocket"
        assert "denied.ipynb" not in server.log  # nothing reached the server

        # The server says what the user needs to know: nothing came.
        denied = connect_report(server)
        assert denied["colab_contacts"] == []
        assert contact_check(denied)["detail"].startswith(
            "no request from Colab's page since the server started: your browser blocked it"
        )
        doctor = run_jupyter(server.home, "colab", "doctor", env=server.env)
        assert "[   i] colab's page: no request from Colab's page since" in doctor.stdout

        driver.execute_cdp_cmd(
            "Browser.grantPermissions",
            {"origin": COLAB_ORIGIN, "permissions": ["loopbackNetwork"]},
        )
        assert run_flow(driver, "direct", root, token, "direct.ipynb") == "42\n"
        assert run_flow(driver, "tunnel", root, token, "tunnel.ipynb") == "42\n"
        # Colab's resource monitor, as the page fetches it (CORS with credentials).
        monitor = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0] + 'api/colab/resources?token=' + arguments[1],"
            " {credentials: 'include'}).then((r) => r.text()).then(done, (e) => done('' + e));",
            root,
            token,
        )
        assert monitor.startswith(')]}\'\n{"memory": {"totalBytes": ')

        allowed = connect_report(server)
        flows = {contact["flow"] for contact in allowed["colab_contacts"]}
        assert flows == {"direct", "tunnel", "relayed kernel socket"}
        assert all(contact["refused"] is None for contact in allowed["colab_contacts"])
        assert contact_check(allowed)["detail"].startswith("Colab's page reached this server ")
        doctor = run_jupyter(server.home, "colab", "doctor", env=server.env)
        assert "[   i] colab's page: Colab's page reached this server " in doctor.stdout

        # What the user sees on the connect page, with Colab's requests listed.
        driver.get(f"{root}colab/connect?token={token}")
        heading = driver.find_element(By.XPATH, '//h2[text()="Colab\'s requests"]')
        assert heading.is_displayed()
        assert "relayed kernel socket" in driver.page_source
        for width in (1200, 400):
            driver.set_window_size(width, 1000)
            screenshot(driver, f"connect-page-contacts-{width}.png")


def test_person_logs_in_opens_connect_page_and_copies_the_url(tmp_path):
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(tmp_path / "server"))
        driver = stack.enter_context(chromium(tmp_path / "profile"))
        connect = f"{server.http_root}colab/connect"
        expected_url = f"http://localhost:{server.port}/?token={server.token}"
        log_in(driver, connect, server.token)
        field = WebDriverWait(driver, WAIT).until(
            expected_conditions.presence_of_element_located((By.ID, "colab-url"))
        )
        assert driver.current_url == connect
        assert field.get_attribute("value") == expected_url
        assert "Connect to a local runtime" in driver.page_source

        driver.execute_cdp_cmd(
            "Browser.grantPermissions",
            {
                "origin": f"http://localhost:{server.port}",
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            },
        )
        driver.find_element(By.ID, "copy").click()
        WebDriverWait(driver, WAIT).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "copy-status"), "Copied.")
        )
        clipboard = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.clipboard.readText().then(done, (e) => done('clipboard error: ' + e));"
        )
        assert clipboard == expected_url

        # The token field shows every character, underscores included: nothing clipped.
        box = driver.execute_script(
            "const f = document.getElementById('colab-url');"
            "return [f.scrollHeight, f.clientHeight, parseFloat(getComputedStyle(f).lineHeight),"
            " parseFloat(getComputedStyle(f).fontSize)];"
        )
        scroll_height, client_height, line_height, font_size = box
        assert scroll_height <= client_height
        assert line_height >= 1.5 * font_size

        for width in (1200, 400):
            driver.set_window_size(width, 1000)
            screenshot(driver, f"colab-connect-{width}.png")
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth > window.innerWidth"
            )
            assert overflow is False, f"the page scrolls sideways at {width} px"


def test_the_page_for_a_gateway_shows_what_the_notebook_will_see(tmp_path):
    with contextlib.ExitStack() as stack:
        gateway = stack.enter_context(running_gateway(tmp_path / "gateway"))
        server = stack.enter_context(running_server(tmp_path / "server", *gateway.front_args()))
        driver = stack.enter_context(chromium(tmp_path / "profile"))
        log_in(driver, f"{server.http_root}colab/connect", server.token)
        WebDriverWait(driver, WAIT).until(
            expected_conditions.element_to_be_clickable((By.ID, "probe"))
        ).click()
        WebDriverWait(driver, FLOW_TIMEOUT).until(
            expected_conditions.text_to_be_present_in_element((By.ID, "probe-result"), "took")
        )
        result = driver.find_element(By.ID, "probe-result").text
        assert f"on the gateway at {gateway.url}" in result
        assert "torch\tnot installed" in result or "torch not installed" in result
        assert "Kernels run on the gateway at" in driver.page_source
        screenshot(driver, "colab-connect-gateway.png")
