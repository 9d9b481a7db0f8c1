"""The explorer in a real browser: Debian's chromium (headless, through chromedriver) loads each
page of the app served on a loopback port, waits for it to render, saves a screenshot under
test-artifacts/screenshots/ (git-ignored) and fails on any exception shown in the page.

CI installs chromium and chromium-driver and sets CELL_DINO_REQUIRE_BROWSER=1, so the test fails
there rather than skip when they are missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.projects import REPO

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
# url path -> the page's title
PAGES = {
    "": "Overview",
    "embeddings": "Embeddings: dino",
    "evaluation": "Evaluation: dino",
    "profiles": "Profiles: dino",
    "attention": "Attention: dino",
    "training": "Training and sweeps",
    "compare": "Compare models",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(finished_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (CHROMIUM and DRIVER):
        message = "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CELL_DINO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app" / "main.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        env={**os.environ, "CELL_DINO_PROJECT": str(finished_project), "CELL_DINO_ENV": "test", "KEDRO_DISABLE_TELEMETRY": "true"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the explorer did not start on {url}; see {log.name}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,2600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_in_chromium_without_exceptions(served: str, browser, path: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{served}/{path}")
    title = PAGES[path]
    WebDriverWait(browser, 90).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), title))
    busy = "[data-testid='stStatusWidget'], [data-testid='stSkeleton']"
    WebDriverWait(browser, 90).until(lambda b: not b.find_elements(By.CSS_SELECTOR, busy))
    time.sleep(2)  # plotly draws after the script finishes
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{path or 'overview'}.png"))
    exceptions = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
    assert not exceptions, exceptions[0].text
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
    if path:  # every page but the overview draws plotly charts
        assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
