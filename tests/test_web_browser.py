"""``qabook serve`` in a real browser: Debian's Chromium driven by playwright's Python package.

A server is started as a user would start it (``qabook serve --port 0``, in a subprocess with its
own temporary folder). The tests drop the reference case and download its Word document, paste a
short transcript and download Markdown, drop a file by a drag-and-drop event, upload files that
cannot be used, use the page with JavaScript off and with the keyboard only, and check contrast.
playwright's own browser download is never used; the tests skip without Chromium or playwright.
Screenshots go to pytest's temporary folder (``QABOOK_SCREENSHOTS=DIR`` keeps them in DIR).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
REFERENCE = "000_8484edd62e7d6ec6.txt"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SHORT = """You said:

Give me three questions (1–3)

ChatGPT said:

Questions (1–3)

1. Q: What is a tensor? A: A multi-dimensional array of numbers.

2. Q: What is a gradient?

A:

The vector of partial derivatives of a function.

3. Q: What does a learning rate control? A: How far each step of gradient descent moves.

Want me to continue?
"""

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
pytest.importorskip("starlette", reason="starlette is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

expect = sync_api.expect


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``qabook serve`` on a free port with a 1 MB cap; its temporary folder is checked at the end."""
    tmp = tmp_path_factory.mktemp("serve-tmp")
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "qabook.cli", "serve", "--port", "0", "--max-upload", "1MB"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(30)
    m = re.search(r"running at (http://\S+)", lines[0] if lines else "")
    if not m:
        proc.kill()
        pytest.fail(f"qabook serve did not start: {lines} {proc.stderr.read() if proc.stderr else ''}")
    info = {"url": m.group(1), "tmp": tmp, "proc": proc}
    yield info
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert not list(tmp.glob("qabook-web-*")), "the server left files behind"


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


class Watch:
    """What a page asked for and complained about."""

    def __init__(self, page: Any, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def check(self, allow_errors: tuple[str, ...] = ()) -> None:
        outside = [u for u in self.requests if not u.startswith(self.base) and not u.startswith(("data:", "blob:"))]
        assert outside == [], "the page asked for something outside qabook"
        errors = [e for e in self.errors if not any(a in e for a in allow_errors)]
        assert errors == [], errors


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    watch = Watch(pg, server["url"])
    pg.goto(server["url"])
    yield pg, watch
    context.close()


def _heading2(docx: bytes) -> int:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return len(root.findall(f".//{W}pStyle[@{W}val='Heading2']"))


# --------------------------------------------------------------------------- the reference case


def test_drop_the_reference_case_and_download_the_docx(page: tuple[Any, Watch], corpus: Path, shots: Path,
                                                        server: dict[str, Any]) -> None:
    pg, watch = page
    expect(pg.locator("h1")).to_have_text("Turn a chat into a document")
    pg.screenshot(path=str(shots / "1-form.png"), full_page=True)

    pg.set_input_files("#file", str(corpus / REFERENCE))
    expect(pg.locator("#chosen")).to_have_text(f"Chosen: {REFERENCE} (218 KB)")
    # slow the upload down so the progress can be seen
    cdp = pg.context.new_cdp_session(pg)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20,
                                                  "downloadThroughput": -1, "uploadThroughput": 60 * 1024})
    pg.click("#go")
    expect(pg.locator("#progress")).to_be_visible()
    expect(pg.locator("#status")).to_contain_text(re.compile(r"Uploading… \d+%|Uploaded"))
    expect(pg.locator("#go")).to_be_disabled()
    pg.screenshot(path=str(shots / "2-uploading.png"))
    pg.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{32}$"), timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})

    expect(pg.locator("h1")).to_contain_text("370 questions found")
    expect(pg.locator(".facts")).to_contain_text("17 sections · 2 renditions")
    preview = pg.locator("#preview")
    expect(preview.locator(".question")).to_have_count(10)
    expect(preview.locator(".question").first).to_have_text("1. What is a Transformer?")
    assert preview.locator("math").count() > 0
    expect(pg.locator(".attention")).to_contain_text("No batch heading before items 121–140")
    pg.screenshot(path=str(shots / "3-result.png"))
    pg.screenshot(path=str(shots / "3-result-full.png"), full_page=True)

    with pg.expect_download() as info:
        pg.click("button[name=format][value=docx]")
    download = info.value
    assert download.suggested_filename == "000_8484edd62e7d6ec6.docx"
    assert _heading2(Path(download.path()).read_bytes()) == 370

    with pg.expect_download() as info:
        pg.click("button[name=format][value=review]")
    assert info.value.suggested_filename == "000_8484edd62e7d6ec6-review.html"
    assert "Review of 000_8484edd62e7d6ec6.txt" in Path(info.value.path()).read_text(encoding="utf-8")
    watch.check()


def test_options_change_the_preview_and_the_download(page: tuple[Any, Watch], corpus: Path, shots: Path) -> None:
    pg, watch = page
    pg.set_input_files("#file", str(corpus / REFERENCE))
    pg.click("#go")
    pg.wait_for_url(re.compile(r"/r/"))
    boxes = pg.locator("input[name=section]")
    expect(boxes).to_have_count(17)
    pg.click(".all-none button:text('None')")  # the script's shortcut
    expect(pg.locator("input[name=section]:checked")).to_have_count(0)
    boxes.first.check()  # keep only the first section
    pg.fill("#title", "Transformers, part 1")
    pg.click("#apply")
    expect(pg.locator(".preview .help")).to_have_text(
        "The first 10 of 20 questions, as they will read in the document.")
    expect(pg.locator("input[name=section]:checked")).to_have_count(1)
    expect(pg.locator(".selection")).to_have_text(
        "The downloads hold 20 of the 370 questions (1 of 17 sections).")
    pg.locator("details.more summary").click()
    pg.screenshot(path=str(shots / "4-options.png"), full_page=True)
    with pg.expect_download() as info:
        pg.click("button[name=format][value=docx]")
    assert _heading2(Path(info.value.path()).read_bytes()) == 20
    watch.check()


# --------------------------------------------------------------------------- pasted text and a drop


def test_paste_a_transcript_and_download_markdown(page: tuple[Any, Watch], shots: Path,
                                                  server: dict[str, Any]) -> None:
    pg, watch = page
    pg.fill("#text", SHORT)
    pg.click("#go")
    pg.wait_for_url(re.compile(r"/r/"))
    expect(pg.locator("h1")).to_contain_text("3 questions found in pasted text")
    expect(pg.locator("#preview .question")).to_have_text(
        ["1. What is a tensor?", "2. What is a gradient?", "3. What does a learning rate control?"])
    pg.screenshot(path=str(shots / "5-pasted.png"), full_page=True)
    with pg.expect_download() as info:
        pg.click("button[name=format][value=md]")
    markdown = Path(info.value.path()).read_text(encoding="utf-8")
    assert info.value.suggested_filename.endswith(".md")
    assert "What is a tensor?" in markdown and "The vector of partial derivatives of a function." in markdown
    result_url = pg.url

    pg.click("text=Remove my file from qabook now")
    pg.wait_for_url(server["url"] + "?removed=1")
    expect(pg.locator(".message.notice")).to_contain_text("were removed")
    pg.goto(result_url)
    expect(pg.locator("#error")).to_contain_text("There is no upload at this address")
    watch.check(allow_errors=("404",))


def test_drag_and_drop(page: tuple[Any, Watch], shots: Path) -> None:
    pg, watch = page
    drop = """([names, text]) => {
      const dt = new DataTransfer();
      for (const name of names) dt.items.add(new File([text], name, {type: "text/plain"}));
      const zone = document.getElementById("drop");
      zone.dispatchEvent(new DragEvent("dragenter", {dataTransfer: dt, bubbles: true, cancelable: true}));
      zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
      return zone.classList.contains("over");
    }"""
    assert pg.evaluate(drop, [["dropped.txt"], SHORT]) is True
    pg.screenshot(path=str(shots / "6-dragging.png"))
    finish = """([names, text]) => {
      const dt = new DataTransfer();
      for (const name of names) dt.items.add(new File([text], name, {type: "text/plain"}));
      document.getElementById("drop").dispatchEvent(
        new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }"""
    pg.evaluate(finish, [["one.txt", "two.txt"], SHORT])
    expect(pg.locator("#error")).to_contain_text("One file at a time")
    pg.evaluate(finish, [["dropped.txt"], SHORT])
    expect(pg.locator("#drop")).not_to_have_class(re.compile(r"\bover\b"))
    expect(pg.locator("#chosen")).to_have_text(re.compile(r"^Chosen: dropped\.txt \(\d+ bytes\)$"))
    expect(pg.locator("#error")).to_be_hidden()
    pg.click("#go")
    pg.wait_for_url(re.compile(r"/r/"))
    expect(pg.locator("h1")).to_contain_text("3 questions found in dropped.txt")
    watch.check()


# --------------------------------------------------------------------------- errors


def test_bad_files_show_a_message(page: tuple[Any, Watch], shots: Path, server: dict[str, Any]) -> None:
    pg, watch = page
    pg.set_input_files("#file", files=[{"name": "photo.png", "mimeType": "image/png",
                                        "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64)}])
    pg.click("#go")
    error = pg.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator("h2")).to_have_text("This cannot be read")
    expect(error).to_contain_text("“photo.png” is a PNG image, not text")
    assert pg.url == server["url"]  # still on the form, which keeps the chosen file
    expect(error).to_be_focused()
    pg.screenshot(path=str(shots / "7-bad-file.png"), full_page=True)

    pg.set_input_files("#file", files=[{"name": "list.txt", "mimeType": "text/plain",
                                        "buffer": b"milk\neggs\nbread\n"}])
    expect(error).to_be_hidden()
    pg.click("#go")
    expect(error.locator("h2")).to_have_text("No questions and answers found")
    expect(error).to_contain_text("qabook found no questions and answers in “list.txt”")

    pg.set_input_files("#file", files=[])
    pg.click("#go")
    expect(error).to_contain_text("Choose a file, drop one on the box, or paste a chat")

    big = b"x" * (1024 * 1024 + 10)
    pg.set_input_files("#file", files=[{"name": "big.txt", "mimeType": "text/plain", "buffer": big}])
    posts: list[str] = []
    pg.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    pg.click("#go")
    expect(error.locator("h2")).to_have_text("Too large")
    expect(error).to_contain_text("“big.txt” is 1 MB; this qabook accepts files up to 1 MB")
    assert posts == []  # refused before sending a byte
    pg.screenshot(path=str(shots / "8-too-large.png"))
    watch.check(allow_errors=("415", "422", "Failed to load resource"))


def test_without_javascript(browser: Any, server: dict[str, Any], corpus: Path, shots: Path) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.goto(server["url"])
    pg.set_input_files("#file", str(corpus / REFERENCE))
    pg.click("#go")
    pg.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{32}$"))
    expect(pg.locator("h1")).to_contain_text("370 questions found")
    with pg.expect_download() as info:
        pg.click("button[name=format][value=docx]")
    assert _heading2(Path(info.value.path()).read_bytes()) == 370

    pg.goto(server["url"])
    pg.set_input_files("#file", files=[{"name": "notes.pdf", "mimeType": "application/pdf",
                                        "buffer": b"%PDF-1.7\n" + bytes(100)}])
    pg.click("#go")
    expect(pg.locator("#error")).to_contain_text("“notes.pdf” is a PDF file, not text")
    pg.screenshot(path=str(shots / "9-no-js-error.png"), full_page=True)

    pg.goto(server["url"])
    pg.set_input_files("#file", files=[{"name": "big.txt", "mimeType": "text/plain",
                                        "buffer": b"y" * (3 * 1024 * 1024)}])
    pg.click("#go")
    expect(pg.locator("#error h2")).to_have_text("Too large")
    expect(pg.locator("#error")).to_contain_text("larger than the 1 MB qabook accepts")
    pg.screenshot(path=str(shots / "10-no-js-too-large.png"))
    context.close()


# --------------------------------------------------------------------------- accessibility


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


_COLOURS = """(selector) => [...document.querySelectorAll(selector)].filter(e => e.offsetParent !== null).map(e => {
  const parse = s => s.match(/[\\d.]+/g).map(Number);
  let bg = e, colour = "rgba(0, 0, 0, 0)";
  while (bg) {
    colour = getComputedStyle(bg).backgroundColor;
    if (parse(colour).length < 4 || parse(colour)[3] > 0) break;
    bg = bg.parentElement;
  }
  if (!bg) colour = "rgb(255, 255, 255)";
  return [parse(getComputedStyle(e).color), parse(colour), e.textContent.trim().slice(0, 30)];
})"""


def test_keyboard_labels_and_contrast(page: tuple[Any, Watch], corpus: Path, shots: Path) -> None:
    pg, watch = page
    order = []
    for _ in range(7):
        pg.keyboard.press("Tab")
        order.append(pg.evaluate("document.activeElement.id || document.activeElement.className || "
                                 "document.activeElement.tagName"))
    assert order[:2] == ["skip", "brand"]
    assert order[2:5] == ["file", "text", ""] or order[2:4] == ["file", "text"], order
    pg.focus("#go")
    pg.keyboard.press("Shift+Tab")
    pg.keyboard.press("Tab")  # focus by keyboard shows the ring
    ring = pg.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                       "return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; })()")
    assert ring == ["go", "solid", "3px"]
    pg.screenshot(path=str(shots / "11-focus.png"))

    unlabeled = pg.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
    assert unlabeled == []
    for selector in (".help", ".lead", ".local", ".foot", "label", "button", "h1", "summary"):
        for fg, bg, text in pg.evaluate(_COLOURS, selector):
            assert _contrast(tuple(fg), tuple(bg)) >= 4.5, (selector, text, fg, bg)

    pg.set_input_files("#file", str(corpus / REFERENCE))
    pg.focus("#go")
    pg.keyboard.press("Enter")  # the form submits from the keyboard
    pg.wait_for_url(re.compile(r"/r/"))
    unlabeled = pg.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
    assert unlabeled == []
    for selector in (".help", ".facts", "label", "button", "h1", "h2", "caption", "td", ".attention li",
                     ".paper .question", ".paper p", "summary"):
        for fg, bg, text in pg.evaluate(_COLOURS, selector):
            assert _contrast(tuple(fg), tuple(bg)) >= 4.5, (selector, text, fg, bg)
    watch.check()


def test_phone_width(browser: Any, server: dict[str, Any], corpus: Path, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.goto(server["url"])
    pg.screenshot(path=str(shots / "12-phone-form.png"), full_page=True)
    pg.set_input_files("#file", str(corpus / REFERENCE))
    pg.click("#go")
    pg.wait_for_url(re.compile(r"/r/"))
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    pg.screenshot(path=str(shots / "13-phone-result.png"))
    context.close()
