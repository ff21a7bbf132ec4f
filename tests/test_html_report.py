"""The HTML report as a person sees it, in a real browser (Debian's Chromium through
selenium): the verdict above the fold, its causes and the latency chart without scrolling,
the journey's strip, no sideways scroll. A screenshot of each is kept in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Faults, Reference, SuiteProject

ARTIFACTS = REPO / "test-artifacts"
WIDTH, HEIGHT = 1300, 900


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (dev extra)")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("needs chromium and chromedriver (Debian's chromium, chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(flag)  # fmt: skip
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.set_window_size(WIDTH, HEIGHT)
    yield session
    session.quit()


def _report(project: SuiteProject, reference: Reference, name: str) -> Path:
    path = project.pytester.path / f"{name}.html"
    project.run_against(
        reference, "test_health.py", "test_journey.py", "test_security.py",
        f"--html={path}", "--self-contained-html", "--passive-checks=on",
    )  # fmt: skip
    assert path.exists()
    return path


def _look(browser: object, page: Path, name: str) -> dict[str, object]:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(page.as_uri())  # type: ignore[attr-defined]
    driver.execute_script("document.body.style.zoom = '1'")  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"report-{name}.png"))  # type: ignore[attr-defined]
    banner = driver.find_element(By.ID, "deploycheck-verdict")  # type: ignore[attr-defined]
    headline = banner.find_element(By.CSS_SELECTOR, "h2.dc-headline")
    chart = banner.find_element(By.CSS_SELECTOR, ".dc-chart svg")
    environment = driver.find_element(By.ID, "environment-header")  # type: ignore[attr-defined]
    return {
        "title": driver.title,  # type: ignore[attr-defined]
        "headline": headline.text,
        "headline_top": headline.rect["y"],
        "chart_top": chart.rect["y"],
        "chart_size": (chart.rect["width"], chart.rect["height"]),
        "environment_top": environment.rect["y"],
        "scroll_width": driver.execute_script(  # type: ignore[attr-defined]
            "return document.documentElement.scrollWidth"
        ),
        "client_width": driver.execute_script(  # type: ignore[attr-defined]
            "return document.documentElement.clientWidth"
        ),
        "text": banner.text,
    }


def test_a_red_report_opens_on_its_causes_and_chart(
    suite_project: SuiteProject, reference: Reference, faults: Faults, browser: object
) -> None:
    faults.set("upload-500")
    seen = _look(browser, _report(suite_project, reference, "red"), "red")
    assert str(seen["title"]).startswith("RED: adhoc")
    assert str(seen["headline"]).startswith("RED: ")
    assert seen["headline_top"] < 250  # the banner is the first thing on the page
    assert seen["environment_top"] > seen["chart_top"]  # pytest-html's table moved below
    assert "1. POST" in str(seen["text"]) or "POST http" in str(seen["text"])
    assert "Next: The server failed on this request" in str(seen["text"])
    assert "upload ✗ 500" in str(seen["text"])  # the strip shows where the journey broke
    assert seen["chart_top"] < HEIGHT  # the chart starts without scrolling
    width, height = seen["chart_size"]  # type: ignore[misc]
    assert width > 300 and height > 100  # drawn, not an empty box
    assert seen["scroll_width"] <= seen["client_width"]  # no sideways scroll


def test_a_green_report_says_so_first(
    suite_project: SuiteProject, reference: Reference, faults: Faults, browser: object
) -> None:
    seen = _look(browser, _report(suite_project, reference, "green"), "green")
    assert str(seen["title"]).startswith("GREEN: adhoc")
    assert str(seen["headline"]).startswith("GREEN: the deployment works")
    assert seen["headline_top"] < 250
    assert "completed" in str(seen["text"])  # the job's states in the strip
    assert seen["scroll_width"] <= seen["client_width"]


def test_a_chart_that_cannot_be_drawn_is_said_and_the_report_still_written() -> None:
    from pytest_deploycheck.plugin.report_html import latency_chart

    drawn = latency_chart([{"endpoint": "GET /x", "median_ms": 3.0, "max_ms": 5.0, "count": 1}], {})
    assert drawn.startswith("<svg")
    broken = [{"endpoint": "GET /x", "median_ms": 3.0, "max_ms": "n/a", "count": 1}]
    assert latency_chart(broken, {}).startswith("<p>(no chart: TypeError: ")
