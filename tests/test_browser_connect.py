"""A person in a real browser: log in with the token, open /colab/connect, copy the URL.

Headless Chromium (Debian's chromium and chromium-driver, installed by .ci/run). The
screenshot is kept in test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.installed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
WAIT = 30


@pytest.fixture
def browser(tmp_path):
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
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_person_logs_in_opens_connect_page_and_copies_the_url(fresh_server, browser):
    connect = f"{fresh_server.http_root}colab/connect"
    expected_url = f"http://localhost:{fresh_server.port}/?token={fresh_server.token}"
    wait = WebDriverWait(browser, WAIT)

    browser.get(connect)  # not logged in yet: Jupyter's login page
    password = wait.until(
        expected_conditions.presence_of_element_located((By.ID, "password_input"))
    )
    assert fresh_server.token not in browser.page_source
    password.send_keys(fresh_server.token)
    password.submit()

    field = wait.until(expected_conditions.presence_of_element_located((By.ID, "colab-url")))
    assert browser.current_url == connect
    assert field.get_attribute("value") == expected_url
    assert "Connect to a local runtime" in browser.page_source

    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": f"http://localhost:{fresh_server.port}",
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    browser.find_element(By.ID, "copy").click()
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "copy-status"), "Copied."))
    clipboard = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (e) => done('clipboard error: ' + e));"
    )
    assert clipboard == expected_url

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "colab-connect.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
