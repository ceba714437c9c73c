"""``qabook quiz``, driven as a user drives it: scripted standard input, and a real terminal (pty);
progress survives a restart and puts missed items first."""

from __future__ import annotations

import os
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qabook.model import Document, Item, Paragraph, Section, Text
from qabook.study.quiz import DAY, CardState, Progress, next_box, plan, progress_path

SOURCE = """# Study set

## Basics

### 1. What is a tensor?

A multi-dimensional array.

### 2. What is a gradient?

The vector of partial derivatives.

### 3. What is a loss?

A number that says how wrong the model is.

## Advanced

### 4. What is attention?

Weights over tokens.

### 5. What is a KV cache?

Stored keys and values.
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    p = tmp_path / "set.md"
    p.write_text(SOURCE, encoding="utf-8")
    return p


def _quiz(source: Path, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "qabook.cli", "quiz", str(source), *args], input=keys,
                          capture_output=True, text=True, timeout=120, env=env, encoding="utf-8")


def _asked(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln.startswith("What is")]


def test_a_session_then_missed_items_first_after_a_restart(source: Path) -> None:
    # Enter, grade; for three items: right, missed, missed (via the 1-4 scale)
    r = _quiz(source, "\ny\n\nn\n\n1\n", "--count", "3")
    assert r.returncode == 0, r.stderr
    assert _asked(r.stdout) == ["What is a tensor?", "What is a gradient?", "What is a loss?"]
    assert "A multi-dimensional array." in r.stdout  # the answer was revealed
    assert "3 answered: 1 known, 2 missed" in r.stdout
    progress = Path(progress_path(str(source)))
    assert progress.is_file() and progress.name == "set.md.qabook-quiz.sqlite"

    # a new process: the missed items come first (in the order they were missed), then new ones;
    # the item known last time is not due yet
    r = _quiz(source, "\ny\n\ny\n\ny\n\ny\n", "--count", "4")
    assert r.returncode == 0, r.stderr
    assert _asked(r.stdout) == ["What is a gradient?", "What is a loss?", "What is attention?",
                                "What is a KV cache?"]
    assert "2 missed, 2 new" in r.stdout
    assert "· missed · box 1" in r.stdout

    r = _quiz(source, "", "--count", "4")
    assert "Nothing to ask" in r.stdout


def test_progress_option_section_and_count(source: Path, tmp_path: Path) -> None:
    store = tmp_path / "elsewhere.sqlite"
    r = _quiz(source, "\n4\n", "--progress", str(store), "--section", "advanced", "--count", "1")
    assert r.returncode == 0, r.stderr
    assert _asked(r.stdout) == ["What is attention?"]
    assert store.is_file() and not Path(progress_path(str(source))).exists()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT key, box, last_grade FROM cards").fetchall() == [("n:4", 3, 4)]
        assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 1


def test_end_of_input_and_q_stop_and_keep_what_was_answered(source: Path) -> None:
    r = _quiz(source, "\ny\n\n")  # input ends while the second answer waits for a grade
    assert r.returncode == 0, r.stderr
    assert "1 answered" in r.stdout
    r = _quiz(source, "q\n")
    assert r.returncode == 0 and "0 answered" in r.stdout
    with sqlite3.connect(progress_path(str(source))) as conn:
        assert conn.execute("SELECT key FROM cards").fetchall() == [("n:1",)]


def test_an_unknown_key_asks_again(source: Path) -> None:
    r = _quiz(source, "\nmaybe\ny\n", "--count", "1")
    assert r.returncode == 0
    assert "Type y or n, or a grade from 1 to 4." in r.stdout
    assert "1 answered: 1 known" in r.stdout


def test_errors(tmp_path: Path, source: Path) -> None:
    r = _quiz(tmp_path / "missing.md", "")
    assert r.returncode == 2 and "no such file" in r.stderr
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database " * 100)
    r = _quiz(source, "", "--progress", str(bad))
    assert r.returncode == 2 and "not a qabook progress file" in r.stderr
    r = subprocess.run([sys.executable, "-m", "qabook.cli", "quiz", "-"], input="", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "give SOURCE as a file" in r.stderr


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_at_a_real_terminal(source: Path) -> None:
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "qabook.cli", "quiz", str(source), "--count", "1"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert marker in seen, seen.decode("utf-8", "replace")

    try:
        read_until(b"Enter: show the answer")
        os.write(master, b"\n")
        read_until(b"Knew it?")
        assert b"multi-dimensional array" in seen
        os.write(master, b"y\n")
        read_until(b"Progress saved")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"1 answered: 1 known" in seen
    assert b"\x1b[" in seen  # styled output at a terminal


# --------------------------------------------------------------------------- the schedule


def test_leitner_boxes() -> None:
    assert next_box(None, 3) == 2 and next_box(None, 4) == 3 and next_box(None, 2) == 1
    assert next_box(4, 1) == 1 and next_box(4, 2) == 4 and next_box(5, 4) == 5


def test_plan_orders_missed_due_new(tmp_path: Path) -> None:
    items = tuple(Item(n, (Text(f"q{n}"),), (Paragraph((Text("a"),)),)) for n in range(1, 6))
    doc = Document("T", "s", (Section("S", items),))
    now = 100 * DAY
    states = {
        "n:1": CardState("n:1", 3, now + DAY, 3, 1, 1, now - DAY),      # known, not due
        "n:2": CardState("n:2", 2, now - 2 * DAY, 3, 1, 1, now - 3 * DAY),  # due
        "n:3": CardState("n:3", 1, now, 1, 1, 0, now - 5),              # missed later
        "n:4": CardState("n:4", 1, now, 1, 1, 0, now - 10),             # missed first
    }
    order = [(c.key, c.reason) for c in plan(doc, states, now)]
    assert order == [("n:4", "missed"), ("n:3", "missed"), ("n:2", "due"), ("n:5", "new")]
    assert [c.key for c in plan(doc, states, now, count=2)] == ["n:4", "n:3"]


def test_progress_records_grades(tmp_path: Path) -> None:
    p = Progress(str(tmp_path / "p.sqlite"))
    s = p.record("n:1", 3, 1000.0)
    assert (s.box, s.due, s.seen, s.right) == (2, 1000.0 + DAY, 1, 1)
    s = p.record("n:1", 1, 2000.0)
    assert (s.box, s.due, s.seen, s.right, s.last_grade) == (1, 2000.0, 2, 1, 1)
    p.close()
    assert Progress(str(tmp_path / "p.sqlite")).states()["n:1"].seen == 2
