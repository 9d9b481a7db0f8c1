"""The explorer in a real browser: Debian's chromium (headless, through chromedriver) loads each
page of the app served on a loopback port, waits for it to render, saves a screenshot under
test-artifacts/screenshots/ (git-ignored) and fails on any exception shown in the page; on the
UMAP it draws a lasso and a box with the mouse and clicks a point, as a user does.

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

import numpy as np
import pytest
from scipy.spatial import cKDTree

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


BUSY = "[data-testid='stStatusWidget'], [data-testid='stSkeleton']"
# every UMAP point as (Metadata_Index, x, y): pixels from the plot element's top left corner
UMAP_POINTS = """
const plot = document.querySelector('.st-key-umap .js-plotly-plot');
const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis;
return plot._fullData.flatMap(trace => Array.from(trace.x, (x, i) =>
    [trace.customdata[i][0], xaxis._offset + xaxis.l2p(x), yaxis._offset + yaxis.l2p(trace.y[i])]));
"""


def _rendered(browser, url: str, title: str) -> None:
    """Open ``url`` and wait until its script has finished and plotly has drawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 90).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), title))
    _settled(browser)


def _settled(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    time.sleep(1)  # a rerun starts after the browser's event reaches the server
    WebDriverWait(browser, 90).until(lambda b: not b.find_elements(By.CSS_SELECTOR, BUSY))
    time.sleep(2)  # plotly draws after the script finishes


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_in_chromium_without_exceptions(served: str, browser, path: str) -> None:
    from selenium.webdriver.common.by import By

    _rendered(browser, f"{served}/{path}", PAGES[path])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{path or 'overview'}.png"))
    exceptions = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
    assert not exceptions, exceptions[0].text
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")  # every page draws plotly charts (the overview: the ladder)
    if path != "attention":  # every table shown has its CSV and parquet download (the attention page shows none)
        downloads = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDownloadButton'] button")]
        assert "CSV" in downloads and "parquet" in downloads and downloads.count("CSV") == downloads.count("parquet"), downloads


# each chart's title as plotly drew it (its SVG title text), whether or not the figure's layout still holds it
CHART_TITLES = """return Array.from(document.querySelectorAll('.js-plotly-plot'), p => {
    const drawn = p.querySelector('.gtitle');
    return (drawn && drawn.textContent) || ((p._fullLayout || {}).title || {}).text || ((p.layout || {}).title || {}).text || '';
});"""


def test_the_ladder_chart_and_the_health_curves_are_drawn(served: str, browser) -> None:
    _rendered(browser, served, PAGES[""])
    titles = browser.execute_script(CHART_TITLES)
    assert any(t.startswith("The model ladder") for t in titles), titles
    _rendered(browser, f"{served}/training", PAGES["training"])
    titles = browser.execute_script(CHART_TITLES)
    for curve in ("teacher_entropy", "kl_teacher_student", "effective_rank", "feature_spread"):
        assert titles.count(curve) == 4, (curve, titles)  # dino, wsdino, wsdino_cells and dino_bag


def test_a_lasso_and_a_box_on_the_umap_fill_the_gallery_and_a_click_picks_the_item(served: str, browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    _rendered(browser, f"{served}/embeddings", PAGES["embeddings"])
    plot = browser.find_element(By.CSS_SELECTOR, ".st-key-umap .js-plotly-plot")
    centre = np.array([plot.size["width"], plot.size["height"]]) / 2
    points = np.array(browser.execute_script(UMAP_POINTS))
    ids, xy = points[:, 0].astype(int), points[:, 1:]

    def drag(tool: str, corners: np.ndarray) -> None:
        """Pick a toolbar tool and draw through ``corners`` (pixels in the plot) with the mouse."""
        browser.execute_script(f"document.querySelector(\".st-key-umap button[data-val='{tool}']\").click()")
        x, y = corners[0] - centre
        chain = ActionChains(browser).move_to_element_with_offset(plot, int(x), int(y)).click_and_hold()
        for x, y in corners[1:] - centre:
            chain = chain.move_to_element_with_offset(plot, int(x), int(y))
        chain.release().perform()
        _settled(browser)

    def within(low: np.ndarray, high: np.ndarray, margin: float) -> set[int]:
        return set(ids[np.all((xy > low - margin) & (xy < high + margin), axis=1)].tolist())

    def rectangle_around(point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The smallest of a few rectangles about the plotted point nearest ``point`` (the UMAP has
        empty regions) that holds at least 3 points well inside."""
        point = xy[np.argmin(np.linalg.norm(xy - point, axis=1))]
        for half in (10, 20, 40, 80):
            low, high = point - half, point + half
            if len(within(low, high, -3)) >= 3:
                return low, high
        pytest.fail(f"no rectangle about {point} holds 3 points")

    gallery = ".st-key-gallery [data-tag]"
    before: set[int] = set()
    for tool, point in (("lasso", np.median(xy, axis=0)), ("select", np.percentile(xy, 25, axis=0))):
        low, high = rectangle_around(point)
        assert within(low, high, -3) - before, tool  # the selection must change the gallery
        corners = np.array([low, [high[0], low[1]], high, [low[0], high[1]], low + [0, 1]]) if tool == "lasso" else np.array([low, high])
        drag(tool, corners)
        chosen = {int(tag.get_attribute("aria-label")) for tag in browser.find_elements(By.CSS_SELECTOR, gallery)}
        assert within(low, high, -3) <= chosen <= within(low, high, 3), tool  # the points inside, give or take 3 px at the edge
        before = chosen
        captions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stImageCaption']")]
        tiles = [text for text in captions if text.split(":")[0].isdigit() and not text.endswith(")")]  # neighbours end in (similarity)
        shown = {int(text.split(":")[0]) for text in tiles}
        assert shown == chosen if len(chosen) <= 36 else len(shown) == 36

    distances, _ = cKDTree(xy).query(xy, k=2)
    lone = int(np.argmax(distances[:, 1]))  # the point farthest from any other: a click cannot hit its neighbour
    browser.execute_script("document.querySelector(\".st-key-umap button[data-val='zoom']\").click()")
    x, y = xy[lone] - centre
    ActionChains(browser).move_to_element_with_offset(plot, int(round(x)), int(round(y))).click().perform()
    _settled(browser)
    assert browser.find_element(By.CSS_SELECTOR, ".st-key-item_choice input").get_attribute("value") == str(ids[lone])
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
