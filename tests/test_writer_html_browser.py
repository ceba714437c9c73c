"""The reference case's HTML page in headless Chromium: collapsible items, a rendered formula, the
search box, the phone layout, printing, and no network use.

Uses Debian's ``chromium`` (``apt-get install chromium``) driven by playwright's Python package;
playwright's own browser download is never used. Skips when either is missing. Screenshots go to
pytest's temporary folder (``QABOOK_SCREENSHOTS=DIR`` keeps them in DIR).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def page_url(reference, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    from qabook.pipeline import write_file

    out = tmp_path_factory.mktemp("html") / "reference.html"
    write_file(reference.document, str(out), dt.date(2024, 1, 1))
    return out.as_uri()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # noqa: BLE001 - a browser that cannot start is a skip, not a failure
            pytest.skip(f"chromium did not start: {exc}")
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    keep = os.environ.get("QABOOK_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser: Any, url: str, **context: Any) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(**context)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, requests, errors


def test_items_collapse_and_open(browser: Any, page_url: str, shots: Path) -> None:
    page, requests, errors = _open(browser, page_url, viewport={"width": 1280, "height": 900})
    items = page.locator("details.qa")
    assert items.count() == 370
    assert page.locator("details.qa[open]").count() == 0
    first = items.first
    answer = first.locator(".answer")
    assert not answer.is_visible()
    first.locator("summary").click()
    assert answer.is_visible()
    assert "Transformer" in answer.inner_text()
    page.click("#expand")
    assert page.locator("details.qa[open]").count() == 370
    page.click("#collapse")
    assert page.locator("details.qa[open]").count() == 0
    page.screenshot(path=str(shots / "desktop.png"))
    assert [u for u in requests if not u.startswith("file:")] == []
    assert errors == []
    page.close()


def test_a_formula_is_rendered_as_mathml(browser: Any, page_url: str, shots: Path) -> None:
    page, _, errors = _open(browser, page_url + "#q6", viewport={"width": 1100, "height": 800})
    item = page.locator("details#q6")
    assert item.get_attribute("open") is not None  # a link to #q6 opens it
    formula = item.locator("math[display=block]").first
    assert formula.is_visible()
    box = formula.bounding_box()
    assert box is not None and box["width"] > 40 and box["height"] > 10
    # MathML is laid out as maths (not as a line of plain text): its children are positioned boxes
    kinds = formula.evaluate("m => Array.from(m.querySelectorAll('mi, mo')).map(e => e.getBoundingClientRect().width > 0)")
    assert kinds and all(kinds)
    assert page.locator("code.tex").count() == 0  # every formula of the reference case converts
    item.screenshot(path=str(shots / "formula.png"))
    assert errors == []
    page.close()


def test_search_box_narrows_the_list(browser: Any, page_url: str, shots: Path) -> None:
    page, _, _ = _open(browser, page_url, viewport={"width": 1280, "height": 900})
    page.fill("#search", "kv cache")
    page.wait_for_function("document.getElementById('shown').textContent.startsWith('6 ')")
    visible = page.locator("details.qa:visible")
    ids = [visible.nth(i).get_attribute("id") for i in range(visible.count())]
    assert "q312" in ids and "q313" in ids and len(ids) == 6
    assert page.inner_text("#shown") == "6 of 370"
    assert page.locator("section.sec:visible").count() == 3
    assert page.locator("#toc li:visible").count() == 3
    page.screenshot(path=str(shots / "search.png"))
    page.fill("#search", "no such words anywhere")
    page.wait_for_function("document.getElementById('shown').textContent.startsWith('0 ')")
    assert page.locator("#nothing").is_visible()
    page.fill("#search", "")
    page.wait_for_function("document.getElementById('shown').textContent.startsWith('370 ')")
    assert page.locator("details.qa:visible").count() == 370
    # case and accents do not matter
    page.fill("#search", "KV CÂCHE")
    page.wait_for_function("document.getElementById('shown').textContent.startsWith('6 ')")
    page.close()


def test_readable_on_a_phone(browser: Any, page_url: str, shots: Path) -> None:
    page, _, _ = _open(browser, page_url + "#q2", viewport={"width": 390, "height": 844},
                       device_scale_factor=2, is_mobile=True, has_touch=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the screen
    assert page.locator("#toc-box").get_attribute("open") is None  # contents folded
    summary = page.locator("details#q2 > summary")
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < 844 and box["width"] > 300
    page.screenshot(path=str(shots / "phone.png"))
    page.close()


def test_print_shows_every_answer_without_the_tools(browser: Any, page_url: str, shots: Path) -> None:
    page, _, _ = _open(browser, page_url, viewport={"width": 1000, "height": 1400})
    page.emulate_media(media="print")
    assert not page.locator("#toc").is_visible()
    assert not page.locator("#search").is_visible()
    assert page.locator("details#q1 .answer").is_visible()
    page.screenshot(path=str(shots / "print.png"))
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    page.close()
