"""The command line imports only what a command needs (start-up time)."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

from qabook.cli import COMMAND_MODULES, main


def _modules_after(code: str) -> set[str]:
    r = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                       capture_output=True, text=True, check=True)
    return set(r.stdout.split())


def test_importing_the_command_line_loads_no_reader_or_writer() -> None:
    loaded = _modules_after("import qabook.cli")
    heavy = {"qabook.formats", "qabook.pipeline", "qabook.readers.markdown", "qabook.readers.transcript",
             "markdown_it", "qabook.writers.docx", "qabook.audit.commands", "qabook.web.commands",
             "qabook.study.commands", "rich"}
    assert not loaded & heavy, sorted(loaded & heavy)


def test_every_lazy_command_is_found_in_its_module() -> None:
    for name, module in COMMAND_MODULES.items():
        assert name in {c.name for c in import_module(module).COMMANDS}, (name, module)
    for module in set(COMMAND_MODULES.values()):
        for command in import_module(module).COMMANDS:
            assert COMMAND_MODULES.get(command.name) == module, command.name


def test_help_lists_every_command() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in [*COMMAND_MODULES, "convert", "demo"]:
        assert f"  {name} " in result.output, name


def test_choosing_the_reader_of_a_transcript_does_not_load_markdown_it(corpus) -> None:  # type: ignore[no-untyped-def]
    # the Markdown sniff needs no parse when speaker lines make the text a transcript's
    path = corpus / "000_8484edd62e7d6ec6.txt"
    loaded = _modules_after(
        "from qabook.source import Source\nfrom qabook.formats import pick_reader\n"
        f"assert pick_reader(Source('t.txt', path={str(path)!r})).name == 'transcript'")
    assert "markdown_it" not in loaded


def test_converting_qabook_markdown_or_a_transcript_does_not_load_rich_when_quiet(tmp_path, corpus) -> None:  # type: ignore[no-untyped-def]
    src = corpus / "000_8484edd62e7d6ec6.txt"
    loaded = _modules_after(
        "import sys\nfrom qabook.cli import main\n"
        f"sys.argv = ['qabook', 'convert', {str(src)!r}, '-o', {str(tmp_path / 'o.docx')!r}, '-q']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n")
    assert "rich" not in loaded and "markdown_it" not in loaded


def test_a_transcript_never_loads_the_export_readers(corpus) -> None:  # type: ignore[no-untyped-def]
    path = corpus / "000_8484edd62e7d6ec6.txt"
    loaded = _modules_after(
        "from qabook.pipeline import load\n"
        f"load(None, 't.txt', path={str(path)!r})")
    assert not loaded & {"qabook.readers.chatgpt", "qabook.readers.claude", "qabook.readers.gemini",
                         "qabook.readers._chat", "ijson"}


def test_choosing_the_reader_of_qabook_markdown_loads_no_other_reader(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # its signature gives the Markdown reader a score no transcript or export reader can beat
    path = tmp_path / "qa.md"
    path.write_text("<!-- qabook markdown: # title, ## sections, ### numbered questions -->\n\n# T\n\n"
                    "## S\n\n### 1. Why?\n\nBecause.\n", encoding="utf-8")
    loaded = _modules_after(
        "from qabook.source import Source\nfrom qabook.formats import pick_reader\n"
        f"assert pick_reader(Source('qa.md', path={str(path)!r})).name == 'markdown'")
    others = {"qabook.readers.transcript", "qabook.readers.chatgpt", "qabook.readers.claude",
              "qabook.readers.gemini", "qabook.readers._chat", "qabook.readers.docx"}
    assert not loaded & others, sorted(loaded & others)


def _inputs(corpus) -> list:  # type: ignore[no-untyped-def,type-arg]
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    return sorted(p for root in (corpus, fixtures) for p in root.rglob("*") if p.is_file())


def test_no_sniff_scores_above_its_readers_most_and_skipping_changes_no_choice(corpus) -> None:  # type: ignore[no-untyped-def]
    from qabook.formats import READERS, pick_reader
    from qabook.readers.base import InputError
    from qabook.source import Source

    inputs = _inputs(corpus)
    assert len(inputs) > 20
    for path in inputs:
        source = Source(path.name, path=str(path))
        try:
            scores = [r.sniff(source) for r in READERS]
        except InputError:
            continue
        for r, s in zip(READERS, scores):
            assert s <= r.most, (path, r.name, s)
        best = max(range(len(READERS)), key=lambda i: (scores[i], -i))
        if scores[best] > 0:
            assert pick_reader(source).name == READERS[best].name, path


def test_a_conversion_tunes_the_garbage_collector_for_a_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qabook.cli import GC_THRESHOLD

    src = tmp_path / "qa.md"
    src.write_text("<!-- qabook markdown: # title, ## sections, ### numbered questions -->\n\n# T\n\n"
                   "## S\n\n### 1. Why?\n\nBecause.\n", encoding="utf-8")
    code = (
        "import gc, sys\nfrom qabook.cli import main\n"
        f"sys.argv = ['qabook', 'convert', {str(src)!r}, '-o', {str(tmp_path / 'o.docx')!r}, '-q']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
        "print(gc.get_threshold(), gc.get_freeze_count() > 1000)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"{GC_THRESHOLD} True"
    assert (tmp_path / "o.docx").stat().st_size > 0
