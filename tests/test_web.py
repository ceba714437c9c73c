"""``qabook serve`` over HTTP (Starlette's TestClient): every endpoint, the limits and the errors.

The browser tests are in ``test_web_browser.py``, the concurrent load in ``test_web_load.py``.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("starlette")
pytest.importorskip("python_multipart")

from lxml import etree  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from qabook import model  # noqa: E402
from qabook.web import app as web_app  # noqa: E402
from qabook.web.app import Settings, content_disposition, create_app, download_stem  # noqa: E402
from qabook.web.commands import parse_size  # noqa: E402
from qabook.web.forms import display_name, human_size  # noqa: E402
from qabook.web.store import PREFIX, Store, remove_stale  # noqa: E402

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BASE = "http://127.0.0.1"
REFERENCE = "000_8484edd62e7d6ec6.txt"

SHORT = """You said:

Give me two questions (1–2)

ChatGPT said:

Questions (1–2)

1. Q: What is a tensor? A: A multi-dimensional array of numbers.

2. Q: What is a gradient?

A:

The vector of partial derivatives of a function.

Want me to continue?
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(max_upload=2 * 1024 * 1024, timeout=60, keep=600, temp_parent=str(tmp_path), workers=2)


@pytest.fixture
def client(settings: Settings, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    store = Store(settings.keep, str(tmp_path), clock=clock)
    app = create_app(settings, store=store)
    with TestClient(app, base_url=BASE) as c:
        yield c


def _store(client: TestClient) -> Store:
    return client.app.state.qabook.store  # type: ignore[attr-defined,no-any-return]


def _post_file(client: TestClient, name: str, data: bytes, *, json_api: bool = False,
               **fields: str) -> Any:
    headers = {"Accept": "application/json"} if json_api else {}
    return client.post("/convert", files={"file": (name, data, "application/octet-stream")}, data=fields,
                       headers=headers, follow_redirects=False)


def _post_text(client: TestClient, text: str, **fields: str) -> Any:
    return client.post("/convert", files={"text": (None, text)}, data=fields, follow_redirects=False)


def _error(html: str) -> str:
    m = re.search(r'<div id="error"[^>]*>(.*?)</div>', html, re.S)
    assert m, "no error box on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))).strip()


def _heading2_count(docx: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return len(root.findall(f".//{W}pStyle[@{W}val='Heading2']"))


@pytest.fixture
def reference_url(client: TestClient, reference_bytes: bytes) -> str:
    r = _post_file(client, REFERENCE, reference_bytes)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


# --------------------------------------------------------------------------- the form page


def test_index_is_a_plain_form_with_strict_headers(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<form id="upload" method="post" action="/convert" enctype="multipart/form-data"' in html
    assert '<label for="file"' in html and 'id="file" name="file"' in html
    assert '<label for="text">' in html and 'name="text"' in html
    assert "500 MB" not in html and "2 MB" in html  # the configured cap is shown
    # no inline script or style, nothing from elsewhere
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path,kind", [("/static/app.js", "javascript"), ("/static/web.css", "text/css"),
                                       ("/static/page.css", "text/css"), ("/static/icon.svg", "image/svg+xml")])
def test_assets_come_from_the_package(client: TestClient, path: str, kind: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and kind in r.headers["content-type"]
    assert r.headers["x-content-type-options"] == "nosniff"
    text = r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in text and "https://" not in text


def test_unknown_paths_and_methods_are_plain_pages(client: TestClient) -> None:
    r = client.get("/nothing-here")
    assert r.status_code == 404 and "There is nothing at this address." in _error(r.text)
    r = client.get("/convert")
    assert r.status_code == 405
    assert client.get("/static/missing.js").status_code == 404


def test_other_host_names_are_refused(client: TestClient) -> None:
    r = client.get("/", headers={"Host": "evil.example:8765"})
    assert r.status_code == 421
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200


# --------------------------------------------------------------------------- converting


def test_reference_case_result_page(client: TestClient, reference_url: str) -> None:
    assert re.fullmatch(r"/r/[A-Za-z0-9_-]{32}", reference_url)
    r = client.get(reference_url)
    assert r.status_code == 200
    html = r.text
    assert '<span id="count">370</span> questions found' in html
    assert "Read as a chat transcript" in html
    assert "Expanded Q&amp;A (201–250)" in html  # sections with their counts
    assert "The numbered set appears 2 times (370 + 370 items)" in html
    assert "<code>math-copies</code>" in html and "<code>labels</code>" in html
    assert "No batch heading before items 121–140" in html  # a warning of the conversion
    assert "asked more than once" in html  # and the review's findings
    assert "speaker lines" in html
    # the preview: the first ten items as the document will have them
    preview = html[html.index('id="preview"'):]
    assert preview.count('<h4 class="question">') == 10
    assert "What is a Transformer?" in preview
    assert "<math" in preview  # formulas as MathML
    for key in ("docx", "md", "html", "apkg", "review"):
        assert f'name="format" value="{key}"' in html


def test_json_api_for_the_page_script(client: TestClient, reference_bytes: bytes) -> None:
    r = _post_file(client, REFERENCE, reference_bytes, json_api=True)
    assert r.status_code == 200
    body = r.json()
    assert body["url"] == f"/r/{body['id']}"
    r = _post_file(client, "x.pdf", b"%PDF-1.7\n...", json_api=True)
    assert r.status_code == 415
    assert set(r.json()) == {"title", "message"} and "PDF" in r.json()["message"]


def test_downloads(client: TestClient, reference_url: str) -> None:
    upload = _store(client).get(reference_url.rsplit("/", 1)[1])
    r = client.get(f"{reference_url}/download?format=docx")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"000_8484edd62e7d6ec6.docx\"; filename*=UTF-8''000_8484edd62e7d6ec6.docx")
    assert _heading2_count(r.content) == 370

    md = client.get(f"{reference_url}/download?format=md")
    assert md.headers["content-type"].startswith("text/markdown")
    from qabook.pipeline import load

    assert load(md.content, "x.md").report.items == 370

    page = client.get(f"{reference_url}/download?format=html")
    assert page.text.count('<details class="qa') == 370
    assert "sandbox" in page.headers["content-security-policy"]  # opened in place, it is fenced off

    apkg = client.get(f"{reference_url}/download?format=apkg")
    assert apkg.content[:4] == b"PK\x03\x04" and apkg.headers["content-disposition"].endswith(".apkg")

    review = client.get(f"{reference_url}/download?format=review")
    assert "Review of 000_8484edd62e7d6ec6.txt" in review.text
    assert 'filename="000_8484edd62e7d6ec6-review.html"' in review.headers["content-disposition"]

    data = client.get(f"{reference_url}/download?format=json")
    assert len(list(model.from_json(data.text).items())) == 370
    for key, marker in (("csv", "#separator:Comma"), ("tsv", "#separator:Tab")):
        assert client.get(f"{reference_url}/download?format={key}").text.lower().startswith(marker.lower())

    bundle = client.get(f"{reference_url}/download?format=zip&output=docx&output=md&output=review")
    assert bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as zf:
        assert sorted(zf.namelist()) == ["000_8484edd62e7d6ec6-review.html", "000_8484edd62e7d6ec6.docx",
                                         "000_8484edd62e7d6ec6.md"]
        assert _heading2_count(zf.read("000_8484edd62e7d6ec6.docx")) == 370
    # the files made for a download are gone once sent; only the upload itself is kept
    assert sorted(p.name for p in upload.folder.iterdir()) == ["input"]


def test_options_rendition_title_repairs_and_sections(client: TestClient, reference_url: str) -> None:
    r = client.get(f"{reference_url}/download?format=json&rendition=last&title=My+notes&no_repair=1")
    doc = model.from_json(r.text)
    assert doc.title == "My notes" and len(list(doc.items())) == 370
    r = client.get(f"{reference_url}?rendition=last&no_repair=1")
    assert '<option value="last" selected>' in r.text and "Repairs are off" in r.text
    # two sections of seventeen
    q = "sections=chosen&section=1&section=11"
    r = client.get(f"{reference_url}/download?format=docx&{q}")
    assert _heading2_count(r.content) == 20 + 50
    page = client.get(f"{reference_url}?{q}")
    assert "The first 10 of 70 questions" in page.text
    assert page.text.count('name="section" value="1" checked') == 1
    assert 'name="section" value="2">' in page.text  # unticked


def test_bad_options_are_explained_on_the_result_page(client: TestClient, reference_url: str) -> None:
    r = client.get(f"{reference_url}?rendition=7")
    assert r.status_code == 400
    assert "No rendition &#39;7&#39;: the source has 2" in _error(r.text)
    assert '<span id="count">370</span>' in r.text  # the page still shows the collection
    r = client.get(f"{reference_url}?rendition=drop+table")
    assert r.status_code == 400 and "Rendition must be auto" in _error(r.text)
    r = client.get(f"{reference_url}/download?format=docx&sections=chosen")
    assert r.status_code == 400 and "Choose at least one section" in _error(r.text)
    r = client.get(f"{reference_url}/download?format=exe")
    assert r.status_code == 400 and "no download format" in _error(r.text)
    r = client.get(f"{reference_url}/download?format=zip")
    assert r.status_code == 400 and "Tick at least one format" in _error(r.text)


def test_pasted_transcript(client: TestClient) -> None:
    r = _post_text(client, SHORT)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert '<span id="count">2</span> questions found' in page.text
    assert "in pasted text" in page.text
    assert "All 2 questions, as they will read in the document." in page.text
    assert "No copy damage found to repair." in page.text and "<code>labels</code>" not in page.text
    assert "1 paragraph of the closing exchange" in page.text
    md = client.get(r.headers["location"] + "/download?format=md")
    assert "What is a tensor?" in md.text and "The vector of partial derivatives" in md.text
    assert md.headers["content-disposition"].startswith('attachment; filename="Questions')


def test_file_wins_over_pasted_text(client: TestClient, reference_bytes: bytes) -> None:
    r = client.post("/convert", files={"file": ("ref.txt", reference_bytes), "text": (None, SHORT)},
                    follow_redirects=False)
    page = client.get(r.headers["location"])
    assert '<span id="count">370</span>' in page.text
    upload = _store(client).get(r.headers["location"].rsplit("/", 1)[1])
    assert sorted(p.name for p in upload.folder.iterdir()) == ["input"]


def test_formats_are_sniffed_not_taken_from_the_name(client: TestClient, reference_bytes: bytes) -> None:
    r = _post_file(client, "notes.docx", reference_bytes)  # a transcript named .docx
    page = client.get(r.headers["location"])
    assert '<span id="count">370</span>' in page.text and "Read as a chat transcript" in page.text
    r = _post_file(client, "chat.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # a PDF named .txt
    assert r.status_code == 415 and "is a PDF file, not text" in _error(r.text)


def test_a_word_document_back_in(client: TestClient, reference_url: str) -> None:
    docx = client.get(f"{reference_url}/download?format=docx").content
    r = _post_file(client, "back.docx", docx)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert '<span id="count">370</span>' in page and "Read as a Word document" in page


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("path,reader", [
    ("chatgpt/export.zip", "a ChatGPT data export"),
    ("chatgpt/chat.html", "a ChatGPT data export"),
    ("claude/conversations.json", "a Claude data export"),
    ("gemini/MyActivity.html", "Gemini activity from Google Takeout"),
])
def test_chat_app_exports(client: TestClient, path: str, reader: str) -> None:
    from markupsafe import escape

    from qabook.pipeline import load

    source = FIXTURES / path
    expected = load(None, source.name, path=str(source)).report
    r = _post_file(client, "export.bin", source.read_bytes())  # the name says nothing: content decides
    assert r.status_code == 303, _error(r.text)
    page = client.get(r.headers["location"]).text
    assert f'<span id="count">{expected.items}</span>' in page
    assert f"Read as {reader}" in page
    for title, _ in expected.sections:
        assert str(escape(title)) in page


# --------------------------------------------------------------------------- errors


def test_unreadable_file(client: TestClient) -> None:
    r = _post_file(client, "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert r.status_code == 415
    assert _error(r.text).startswith("This cannot be read “photo.png” is a PNG image, not text")
    assert "Traceback" not in r.text


def test_nothing_found(client: TestClient) -> None:
    r = _post_file(client, "notes.txt", b"Shopping list\n\nmilk, eggs, bread\n")
    assert r.status_code == 422
    message = _error(r.text)
    assert message.startswith("No questions and answers found qabook found no questions and answers in “notes.txt”")
    r = _post_text(client, "just some words")
    assert r.status_code == 422 and "in the pasted text" in _error(r.text)


def test_empty_and_missing_input(client: TestClient) -> None:
    r = _post_file(client, "empty.txt", b"")
    assert r.status_code == 422 and "“empty.txt” is empty." in _error(r.text)
    r = _post_file(client, "blank.txt", b"   \n\n  ")
    assert r.status_code == 422 and "“blank.txt” is empty." in _error(r.text)
    r = client.post("/convert", files={"file": ("", b"")}, data={"text": ""})
    assert r.status_code == 400 and "Choose a file" in _error(r.text)
    r = client.post("/convert", content=b"text=hello", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "multipart/form-data" in _error(r.text)
    r = client.post("/convert", content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n",
                    headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.status_code in (400, 422)


def test_one_file_at_a_time(client: TestClient) -> None:
    r = client.post("/convert", files=[("file", ("a.txt", SHORT.encode())), ("file", ("b.txt", SHORT.encode()))])
    assert r.status_code == 400 and "one file at a time" in _error(r.text)


def test_nothing_is_kept_after_a_failure(client: TestClient) -> None:
    store = _store(client)
    _post_file(client, "photo.png", b"\x89PNG\r\n\x1a\n")
    _post_text(client, "nothing here")
    assert len(store) == 0
    assert [p.name for p in store.root.iterdir()] == [".owner"]


def test_over_the_cap_is_413(client: TestClient, settings: Settings) -> None:
    big = b"x" * (settings.max_upload + 1)
    r = _post_file(client, "big.txt", big)
    assert r.status_code == 413
    assert "larger than the 2 MB qabook accepts" in _error(r.text)
    r = _post_file(client, "big.txt", big, json_api=True)
    assert r.status_code == 413 and r.json()["title"] == "Too large"
    # a declared length over the cap is refused before anything is stored
    r = client.post("/convert", content=b"x" * 10,
                    headers={"Content-Type": "multipart/form-data; boundary=b",
                             "Content-Length": str(settings.max_upload * 3)})
    assert r.status_code == 413
    assert len(_store(client)) == 0 and [p.name for p in _store(client).root.iterdir()] == [".owner"]


def test_over_the_cap_without_a_declared_length(client: TestClient, settings: Settings) -> None:
    boundary = "qabookboundary"

    def body() -> Iterator[bytes]:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n").encode()
        for _ in range(settings.max_upload // 65536 + 2):
            yield b"y" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post("/convert", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413


def test_unknown_and_removed_uploads_are_404(client: TestClient, reference_url: str) -> None:
    for path in ("/r/" + "A" * 32, "/r/" + "A" * 32 + "/download?format=docx", "/r/..%2F..%2Fetc",
                 "/r/short"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "There is no upload at this address" in _error(r.text) or "nothing at this address" in _error(r.text)
    upload = _store(client).get(reference_url.rsplit("/", 1)[1])
    r = client.post(f"{reference_url}/delete", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?removed=1"
    assert "were removed" in client.get("/?removed=1").text
    assert not upload.folder.exists()
    assert client.get(reference_url).status_code == 404


def test_expired_upload_is_410(client: TestClient, reference_url: str, clock: Clock, settings: Settings) -> None:
    upload = _store(client).get(reference_url.rsplit("/", 1)[1])
    clock.now += settings.keep - 1
    assert client.get(reference_url).status_code == 200  # using it keeps it
    clock.now += settings.keep + 1
    r = client.get(f"{reference_url}/download?format=docx")
    assert r.status_code == 410
    assert "This upload has expired" in _error(r.text) and "10 minutes" in _error(r.text)
    assert not upload.folder.exists()
    assert client.get(reference_url).status_code == 410


def test_uploads_are_apart(client: TestClient, reference_bytes: bytes) -> None:
    a = _post_file(client, "a.txt", reference_bytes).headers["location"]
    b = _post_text(client, SHORT).headers["location"]
    assert a != b
    store = _store(client)
    ua, ub = store.get(a.rsplit("/", 1)[1]), store.get(b.rsplit("/", 1)[1])
    assert ua.folder.parent == ub.folder.parent == store.root and ua.folder != ub.folder
    assert oct(store.root.stat().st_mode & 0o777) == "0o700"
    assert oct(ua.folder.stat().st_mode & 0o777) == "0o700"
    assert '<span id="count">2</span>' in client.get(b).text


def test_uploaded_names_never_become_paths(client: TestClient, tmp_path: Path) -> None:
    evil = '../../x"; filename=evil.exe\r\n.txt'
    r = _post_file(client, evil, SHORT.encode())
    assert r.status_code == 303
    store = _store(client)
    upload = store.get(r.headers["location"].rsplit("/", 1)[1])
    # the client escapes the quote and the line break (as browsers do); the folders are dropped
    assert upload.name == "x%22; filename=evil.exe%0D%0A.txt"
    assert sorted(p.name for p in upload.folder.iterdir()) == ["input"]
    assert not (tmp_path / "x").exists()
    d = client.get(r.headers["location"] + "/download?format=md").headers["content-disposition"]
    assert d.startswith('attachment; filename="x-22-filename-evil.exe-0D-0A.md"; filename*=UTF-8\'\'')
    assert "\r" not in d and "\n" not in d and d.count('"') == 2


def test_conversion_timeout(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    real = web_app._convert

    def slow(*args: Any) -> Any:
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(web_app, "_convert", slow)
    client.app.state.qabook.jobs.timeout = 0.3  # type: ignore[attr-defined]
    r = _post_text(client, SHORT)
    release.set()
    assert r.status_code == 503
    assert "took longer than 0.3 seconds" in _error(r.text)
    assert len(_store(client)) == 0


def test_a_fault_in_qabook_shows_no_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(web_app, "_convert", broken)
    r = _post_text(client, SHORT)
    assert r.status_code == 500
    assert "This is a fault in qabook" in _error(r.text)
    assert "secret internals" not in r.text and "Traceback" not in r.text


def test_shutdown_removes_everything(settings: Settings, reference_bytes: bytes) -> None:
    app = create_app(settings)
    with TestClient(app, base_url=BASE) as c:
        _post_file(c, REFERENCE, reference_bytes)
        root = c.app.state.qabook.store.root  # type: ignore[attr-defined]
        assert any(root.iterdir())
    assert not root.exists()


def test_folders_of_killed_servers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{PREFIX}stale"
    (stale / "abc").mkdir(parents=True)
    (stale / ".owner").write_text(str(dead.pid))
    alive = tmp_path / f"{PREFIX}alive"
    alive.mkdir()
    (alive / ".owner").write_text(str(os.getpid()))
    other = tmp_path / f"{PREFIX}foreign"
    other.mkdir()  # no owner file: not ours to judge
    assert remove_stale(tmp_path) == 1
    assert not stale.exists() and alive.exists() and other.exists()


# --------------------------------------------------------------------------- small helpers


def test_names_and_sizes() -> None:
    assert display_name("C:\\Users\\me\\chat log.txt") == "chat log.txt"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("a\x00b\u202e.txt") == "ab.txt"
    assert download_stem("chat.export.json") == "chat.export"
    assert download_stem("..") == "qabook" and download_stem("a/b:c?.txt") == "a-b-c-"[:-1]
    assert content_disposition("Заметки.docx") == (
        "attachment; filename=\"qabook.docx\"; filename*=UTF-8''%D0%97%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B8.docx")
    assert content_disposition("café notes.md") == (
        "attachment; filename=\"cafe-notes.md\"; filename*=UTF-8''caf%C3%A9%20notes.md")
    assert human_size(500 * 1024 * 1024) == "500 MB" and human_size(1536) == "1.5 KB"
    assert parse_size("500MB") == 500 * 1024**2 and parse_size("2g") == 2 * 1024**3
    assert parse_size("1.5 GiB") == int(1.5 * 1024**3) and parse_size("1000") == 1000
    with pytest.raises(ValueError):
        parse_size("lots")


# --------------------------------------------------------------------------- the command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(*args: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "qabook.cli", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"running at (http://\S+)", line)
    if not m:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, m.group(1)


def test_serve_command(tmp_path: Path) -> None:
    import urllib.request

    proc, url = _start("--port", "0", "--max-upload", "1MB", tmp=tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as r:
            page = r.read().decode()
        assert "up to 1 MB" in page
        assert len(list(tmp_path.glob(f"{PREFIX}*"))) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "temporary files were removed" in out
    assert list(tmp_path.glob(f"{PREFIX}*")) == []


def test_serve_beyond_loopback_warns(tmp_path: Path) -> None:
    proc, url = _start("--host", "0.0.0.0", "--port", "0", tmp=tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert "warning: listening on 0.0.0.0, not only on this computer" in err


def test_serve_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "qabook.cli", "serve", "--port", str(port)],
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.strip() == f"qabook: error: port {port} is in use (another qabook serve?); choose another with --port"


def test_serve_help_and_bad_size() -> None:
    from click.testing import CliRunner

    from qabook.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--max-upload" in result.output and "--host" in result.output
    result = CliRunner().invoke(main, ["serve", "--max-upload", "huge"])
    assert result.exit_code == 2 and "is not a size" in result.output
