"""``qabook serve`` under load: 20 people convert the reference case at the same moment.

A real uvicorn server (in a thread of this process, on a free port) gets 20 concurrent uploads
of the reference case through plain HTTP. Each upload asks for its own title, and each client
checks that what it downloads is its own collection: 370 items under its own title, and a Word
document with 370 question headings. Conversions run two at a time in worker threads; the rest
wait their turn, and none may fail or see another's file.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from qabook import model  # noqa: E402
from qabook.web.app import Settings, create_app  # noqa: E402

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CLIENTS = 20


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = Settings(temp_parent=str(tmp_path), workers=2, timeout=240)
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    server.should_exit = True
    thread.join(30)
    sock.close()
    assert not app.state.qabook.store.root.exists(), "shutdown left the uploads behind"


def _multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 "Content-Type: text/plain\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _one(base: str, data: bytes, n: int, start: threading.Barrier) -> dict[str, Any]:
    title = f"Collection of client {n}"
    body, content_type = _multipart({"title": title}, f"chat-{n}.txt", data)
    request = urllib.request.Request(f"{base}/convert", data=body, method="POST",
                                     headers={"Content-Type": content_type, "Accept": "application/json"})
    start.wait()
    began = time.monotonic()
    with urllib.request.urlopen(request, timeout=240) as r:
        answer = json.loads(r.read())
        url = f"/r/{answer['id']}"
        assert answer["url"].startswith(url)
    with urllib.request.urlopen(f"{base}{url}/download?format=json&title={title.replace(' ', '+')}",
                                timeout=240) as r:
        text = r.read().decode("utf-8")
        assert r.headers["Content-Type"] == "application/json", (r.status, text[text.find('id="error"'):][:600])
        doc = model.from_json(text)
    with urllib.request.urlopen(f"{base}{url}/download?format=docx&title={title.replace(' ', '+')}",
                                timeout=240) as r:
        disposition = r.headers["Content-Disposition"]
        docx = r.read()
    with urllib.request.urlopen(f"{base}{url}", timeout=240) as r:
        page = r.read().decode("utf-8")
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return {
        "url": url, "title": doc.title, "items": len(list(doc.items())), "source": doc.source,
        "headings": len(root.findall(f".//{W}pStyle[@{W}val='Heading2']")), "disposition": disposition,
        "page": '<span id="count">370</span>' in page and f"chat-{n}.txt" in page,
        "seconds": time.monotonic() - began,
    }


def test_twenty_concurrent_conversions(live: tuple[str, Any], reference_bytes: bytes) -> None:
    base, app = live
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_one, base, reference_bytes, n, start) for n in range(CLIENTS)]
        results = [f.result(timeout=600) for f in futures]
    for n, r in enumerate(results):
        assert r["items"] == 370, r
        assert r["headings"] == 370, r
        assert r["title"] == f"Collection of client {n}", r  # each got its own collection
        assert r["source"] == f"chat-{n}.txt"
        assert f'filename="chat-{n}.docx"' in r["disposition"]
        assert r["page"]
    assert len({r["url"] for r in results}) == CLIENTS
    store = app.state.qabook.store
    assert len(store) == CLIENTS
    assert sorted(p.name for p in store.root.iterdir() if p.is_dir()) == sorted(r["url"][3:] for r in results)
    assert app.state.qabook.jobs.running == 0
