"""A review as terminal tables (rich) or as one self-contained HTML page (no network)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from qabook.audit.check import Review

if TYPE_CHECKING:
    from rich.console import Console

_SKIPPED = {
    "speaker line": "speaker lines",
    "chat between batches": "paragraphs of chat between batches",
    "before the Q&A": "paragraphs before the Q&A",
    "closing exchange": "paragraphs of the closing exchange",
}


def _range(first: int | None, last: int | None) -> str:
    return "—" if first is None else f"{first}–{last}"


def _numbers(numbers: tuple[int | None, ...]) -> str:
    return ", ".join("Q?" if n is None else f"Q{n}" for n in numbers)


def print_review(review: Review, console: Console, max_hunks: int = 3) -> None:
    """The review as terminal tables."""
    from rich.markup import escape
    from rich.table import Table

    verdict = "[yellow]needs review[/]" if review.needs_review else "[green]clean[/]"
    console.print(f"[bold]{escape(review.source)}[/]: {review.items} items — {verdict}")

    t = Table(title="Numbering", title_justify="left", header_style="bold")
    for col in ("Rendition", "Items", "Range", "Gaps", "Repeats", "Out of order", ""):
        t.add_column(col)
    for c in review.coverage:
        t.add_row(str(c.rendition), str(c.items), _range(c.first, c.last),
                  _numbers(c.gaps) or "—", _numbers(c.repeats) or "—", _numbers(c.out_of_order) or "—",
                  "[green]complete[/]" if c.complete else "[yellow]incomplete[/]")
    console.print(t)
    for m in review.missing_headings:
        console.print(f"[yellow]Missing batch heading:[/] items {_range(m.first, m.last)} "
                      f"(rendition {m.rendition}, line {m.line})")

    if review.duplicates:
        t = Table(title=f"Questions asked more than once ({len(review.duplicates)} groups)",
                  title_justify="left", header_style="bold")
        t.add_column("Kind")
        t.add_column("Items")
        t.add_column("Question")
        t.add_column("Answers alike", justify="right")
        for g in review.duplicates:
            t.add_row(g.kind, _numbers(g.numbers), escape(g.questions[0]), f"{g.answer_similarity}%")
        console.print(t)
    if review.unanswered:
        console.print(f"[bold]Unanswered ({len(review.unanswered)}):[/]")
        for n, q in review.unanswered:
            console.print(f"  {'Q' + str(n) if n is not None else '-'} {escape(q)}")
    if review.skipped:
        console.print("[bold]Skipped as chat:[/] " + ", ".join(
            f"{n} {_SKIPPED.get(k, k)}" for k, n in review.skipped))
    if review.differences:
        console.print(f"[bold]Renditions differ in words ({len(review.differences)} items):[/]")
        for d in review.differences:
            console.print(f"  [bold]Q{d.number}[/] {escape(d.question)}")
            for h in d.hunks[:max_hunks]:
                console.print(f"    … {escape(h.before)} [red]earliest: {escape(h.earliest) or '∅'}[/] / "
                              f"[cyan]rendition {d.rendition}: {escape(h.other) or '∅'}[/] {escape(h.after)} …")
            if len(d.hunks) > max_hunks:
                console.print(f"    [dim]… {len(d.hunks) - max_hunks} more changes (see --json or --html)[/]")
    for w in review.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.verdict{font-weight:600}.clean{color:#1a7f37}.review{color:#9a6700}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f6f8fa}
del{background:#ffebe9;text-decoration:line-through}ins{background:#dafbe1;text-decoration:none}
.hunk{margin:.2rem 0 .2rem 1rem;font-size:.95em}.ctx{color:#57606a}
@media print{body{margin:0}h2{break-after:avoid}}
"""


def review_html(review: Review) -> str:
    """The review as a self-contained HTML page."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Review of {e(review.source)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>Review of {e(review.source)}</h1>",
        f'<p class="verdict {"review" if review.needs_review else "clean"}">{review.items} items — '
        f'{"needs review" if review.needs_review else "clean"}</p>',
        "<h2>Numbering</h2>", "<table><thead><tr><th>Rendition</th><th>Items</th><th>Range</th><th>Gaps</th>"
        "<th>Repeats</th><th>Out of order</th></tr></thead><tbody>",
    ]
    for c in review.coverage:
        parts.append(f"<tr><td>{c.rendition}</td><td>{c.items}</td><td>{_range(c.first, c.last)}</td>"
                     f"<td>{e(_numbers(c.gaps)) or '—'}</td><td>{e(_numbers(c.repeats)) or '—'}</td>"
                     f"<td>{e(_numbers(c.out_of_order)) or '—'}</td></tr>")
    parts.append("</tbody></table>")
    if review.missing_headings:
        parts.append("<ul>")
        for m in review.missing_headings:
            parts.append(f"<li>Missing batch heading: items {_range(m.first, m.last)} "
                         f"(rendition {m.rendition}, line {m.line})</li>")
        parts.append("</ul>")
    parts.append(f"<h2>Questions asked more than once ({len(review.duplicates)} groups)</h2>")
    if review.duplicates:
        parts.append("<table><thead><tr><th>Kind</th><th>Items</th><th>Questions</th><th>Answers alike</th>"
                     "</tr></thead><tbody>")
        for g in review.duplicates:
            qs = "<br>".join(e(q) for q in dict.fromkeys(g.questions))
            parts.append(f"<tr><td>{g.kind}</td><td>{e(_numbers(g.numbers))}</td><td>{qs}</td>"
                         f"<td>{g.answer_similarity}%</td></tr>")
        parts.append("</tbody></table>")
    else:
        parts.append("<p>None.</p>")
    parts.append(f"<h2>Unanswered ({len(review.unanswered)})</h2>")
    parts.append("<ul>" + "".join(f"<li>{'Q' + str(n) if n is not None else ''} {e(q)}</li>"
                                  for n, q in review.unanswered) + "</ul>" if review.unanswered else "<p>None.</p>")
    parts.append("<h2>Skipped as chat</h2>")
    parts.append("<ul>" + "".join(f"<li>{n} {e(_SKIPPED.get(k, k))}</li>" for k, n in review.skipped) + "</ul>"
                 if review.skipped else "<p>Nothing.</p>")
    parts.append(f"<h2>Renditions differ in words ({len(review.differences)} items)</h2>")
    for d in review.differences:
        parts.append(f"<h3>Q{d.number} {e(d.question)} <small>(earliest vs rendition {d.rendition})</small></h3>")
        for h in d.hunks:
            parts.append(f'<p class="hunk"><span class="ctx">… {e(h.before)}</span> <del>{e(h.earliest)}</del> '
                         f'<ins>{e(h.other)}</ins> <span class="ctx">{e(h.after)} …</span></p>')
    if review.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{e(w)}</li>" for w in review.warnings) + "</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
