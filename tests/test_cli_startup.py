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
