"""A terminal quiz with Leitner boxes, its progress kept in a SQLite file.

A session asks up to ``count`` items: first the ones **missed** last time, then the ones **due**
(their box's interval has passed since they were last asked, earliest first), then **new** ones in
document order. Items answered well and not yet due are left out.

Each question is shown; Enter reveals the answer; the player grades it:

=========  ==========  ===========================================================
key        grade       effect
=========  ==========  ===========================================================
``n``/1    again       missed: back to box 1, asked first next session
``2``      hard        stays in its box (box 1 for a new item)
``y``/3    good        one box up
``4``      easy        two boxes up
``q``      —           stop (progress so far is kept; end of input stops too)
=========  ==========  ===========================================================

Box intervals in days: :data:`INTERVALS`. Items are known by the same keys as Anki notes
(:func:`qabook.writers.anki.item_keys`: the number, or the question when there is none), so a
progress file survives edits to answers and re-conversions.

Input is read a line at a time, so the quiz works the same at a terminal and with scripted standard
input (one line per key: an empty line for Enter).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Literal, TextIO

from qabook.model import Document, Item, Section, plain_text
from qabook.writers.anki import collection_identity, item_keys

INTERVALS: dict[int, float] = {1: 0.0, 2: 1.0, 3: 3.0, 4: 7.0, 5: 16.0}
"""Days before an item in each box is due again (box 1: every session)."""
TOP_BOX = max(INTERVALS)
DAY = 86_400.0

Grade = Literal[1, 2, 3, 4]
Reason = Literal["missed", "due", "new"]

GRADE_KEYS: dict[str, Grade] = {"n": 1, "no": 1, "1": 1, "2": 2, "y": 3, "yes": 3, "3": 3, "4": 4}


def progress_path(source: str) -> str:
    """Where a source's progress is kept by default: ``SOURCE.qabook-quiz.sqlite``."""
    return f"{source}.qabook-quiz.sqlite"


@dataclass(frozen=True, slots=True)
class CardState:
    """What the progress file knows about one item."""

    key: str
    box: int
    due: float
    """Unix time at which the item is due again."""
    last_grade: int
    seen: int
    right: int
    last_seen: float


class Progress:
    """The progress file (SQLite): one row per item ever asked."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path)
        with self.conn:
            self.conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS cards(
                    key TEXT PRIMARY KEY,
                    box INTEGER NOT NULL,
                    due REAL NOT NULL,
                    last_grade INTEGER NOT NULL,
                    seen INTEGER NOT NULL DEFAULT 0,
                    right INTEGER NOT NULL DEFAULT 0,
                    last_seen REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS answers(
                    at REAL NOT NULL, key TEXT NOT NULL, grade INTEGER NOT NULL, box INTEGER NOT NULL
                );
                """
            )

    def close(self) -> None:
        self.conn.close()

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def states(self) -> dict[str, CardState]:
        rows = self.conn.execute("SELECT key, box, due, last_grade, seen, right, last_seen FROM cards")
        return {r[0]: CardState(*r) for r in rows}

    def record(self, key: str, grade: Grade, now: float) -> CardState:
        """Store a grade for an item; returns its new state."""
        old = self.states_for((key,)).get(key)
        box = next_box(old.box if old else None, grade)
        due = now + INTERVALS[box] * DAY
        state = CardState(key, box, due, grade, (old.seen if old else 0) + 1,
                          (old.right if old else 0) + (grade >= 3), now)
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?)",
                (state.key, state.box, state.due, state.last_grade, state.seen, state.right, state.last_seen))
            self.conn.execute("INSERT INTO answers VALUES (?, ?, ?, ?)", (now, key, grade, box))
        return state

    def states_for(self, keys: Iterable[str]) -> dict[str, CardState]:
        out: dict[str, CardState] = {}
        for key in keys:
            row = self.conn.execute(
                "SELECT key, box, due, last_grade, seen, right, last_seen FROM cards WHERE key = ?", (key,)
            ).fetchone()
            if row:
                out[key] = CardState(*row)
        return out


def next_box(box: int | None, grade: Grade) -> int:
    """The Leitner box after a grade (``box`` None for an item never asked)."""
    current = box or 1
    if grade == 1:
        return 1
    if grade == 2:
        return current
    step = 1 if grade == 3 else 2
    return min(TOP_BOX, current + step)


@dataclass(frozen=True, slots=True)
class Card:
    """An item in a session, with why it is asked."""

    key: str
    item: Item
    section: Section
    reason: Reason
    state: CardState | None


def plan(doc: Document, states: dict[str, CardState], now: float, count: int | None = None,
         section: str | None = None) -> list[Card]:
    """The items of a session, in the order they are asked: missed, due, then new."""
    needle = section.casefold() if section else None
    missed: list[Card] = []
    due: list[Card] = []
    new: list[Card] = []
    keys = iter(item_keys(doc))
    for sec in doc.sections:
        for item in sec.items:
            key = next(keys)
            if needle is not None and needle not in sec.title.casefold():
                continue
            st = states.get(key)
            if st is None:
                new.append(Card(key, item, sec, "new", None))
            elif st.last_grade == 1:
                missed.append(Card(key, item, sec, "missed", st))
            elif st.due <= now:
                due.append(Card(key, item, sec, "due", st))
    missed.sort(key=lambda c: c.state.last_seen if c.state else 0.0)
    due.sort(key=lambda c: (c.state.due, c.state.box) if c.state else (0.0, 0))
    cards = missed + due + new
    return cards if count is None else cards[:count]


# --------------------------------------------------------------------------- the session


@dataclass
class Outcome:
    """What a session did."""

    asked: int = 0
    right: int = 0
    missed: int = 0
    stopped: bool = False


class Terminal:
    """Reading keys and writing text: rich output on a terminal, plain text otherwise."""

    def __init__(self, stdin: TextIO, stdout: TextIO, color: bool | None = None) -> None:
        from rich.console import Console

        self.stdin = stdin
        self.console = Console(file=stdout, highlight=False, soft_wrap=True,
                               force_terminal=color, no_color=color is False)

    def block(self, renderable: object) -> None:
        """Print a rendered block (an answer); in plain text without the padding rich adds."""
        if self.console.is_terminal:
            self.console.print(renderable, soft_wrap=False)
            return
        with self.console.capture() as capture:
            self.console.print(renderable, soft_wrap=False)
        text = "\n".join(line.rstrip() for line in capture.get().split("\n"))
        self.console.file.write(text)

    def line(self, prompt: str) -> str | None:
        """A line of input without its newline; None at end of input."""
        self.console.print(prompt, end="", markup=True)
        self.console.file.flush()
        text = self.stdin.readline()
        if not text:
            self.console.print()
            return None
        if not self.stdin.isatty():
            self.console.print()  # scripted input is not echoed: end the prompt's line
        return text.rstrip("\r\n")


def _answer_renderable(item: Item):  # type: ignore[no-untyped-def]
    from rich.markdown import Markdown

    from qabook.writers import markdown as md_writer

    if not item.answer:
        return "[dim](no answer in the source)[/]"
    return Markdown(md_writer.blocks(item.answer), code_theme="ansi_dark", inline_code_lexer=None)


def run(doc: Document, progress: Progress, term: Terminal, *, count: int | None = 20,
        section: str | None = None, clock: Callable[[], float] = time.time) -> Outcome:
    """Ask the planned items, record each grade at once, and print a summary."""
    from rich.markup import escape
    from rich.rule import Rule

    out = Outcome()
    console = term.console
    progress.set_meta("collection", collection_identity(doc))
    progress.set_meta("title", doc.title)
    cards = plan(doc, progress.states(), clock(), count, section)
    if not cards:
        what = f" in sections matching {section!r}" if section else ""
        console.print(f"Nothing to ask{what}: every item is learned and none is due yet.")
        return out
    total = len(cards)
    reasons = {r: sum(1 for c in cards if c.reason == r) for r in ("missed", "due", "new")}
    parts = [f"{n} {r}" for r, n in reasons.items() if n]
    console.print(f"[bold]{escape(doc.title)}[/]: {total} question{'s' if total != 1 else ''} "
                  f"({', '.join(parts)}). Enter shows the answer; q stops.")
    for n, card in enumerate(cards, start=1):
        console.print(Rule(style="dim"))
        num = f"Q{card.item.number} · " if card.item.number is not None else ""
        box = f" · box {card.state.box}" if card.state else ""
        console.print("[dim]" + escape(f"[{n}/{total}] {num}{card.section.title} · {card.reason}{box}") + "[/]")
        console.print("[bold]" + escape(plain_text(card.item.question).strip() or "(no question)") + "[/]")
        key = term.line("[dim]Enter: show the answer[/] ")
        if key is None or key.strip().lower() == "q":
            out.stopped = True
            break
        term.block(_answer_renderable(card.item))
        grade = _ask_grade(term)
        if grade is None:
            out.stopped = True
            break
        state = progress.record(card.key, grade, clock())
        out.asked += 1
        if grade >= 3:
            out.right += 1
        elif grade == 1:
            out.missed += 1
        console.print(f"[dim]→ box {state.box}, {_when(state.due - clock())}[/]")
    console.print(Rule(style="dim"))
    console.print(f"{out.asked} answered: {out.right} known, {out.missed} missed. "
                  f"Progress saved in {escape(progress.path)}.")
    return out


def _ask_grade(term: Terminal) -> Grade | None:
    prompt = "Knew it? [bold]y[/]/[bold]n[/] (or 1 again · 2 hard · 3 good · 4 easy; q stops) "
    while True:
        text = term.line(prompt)
        if text is None:
            return None
        key = text.strip().lower()
        if key == "q":
            return None
        if key in GRADE_KEYS:
            return GRADE_KEYS[key]
        term.console.print("[yellow]Type y or n, or a grade from 1 to 4.[/]")


def _when(seconds: float) -> str:
    if seconds <= 0:
        return "asked again next session"
    days = round(seconds / DAY)
    return f"due again in {days} day{'s' if days != 1 else ''}"


def open_progress(path: str) -> Progress:
    """Open (creating if needed) a progress file, with a clear error for one that is not."""
    p = Path(path)
    if p.is_dir():
        raise OSError(21, "is a folder, not a file", path)
    try:
        return Progress(path)
    except sqlite3.DatabaseError as exc:
        raise OSError(22, f"is not a qabook progress file ({exc})", path) from None
