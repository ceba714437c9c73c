"""Shared test fixtures: where the shared corpus is, and the golden-file switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"


def shared_dir() -> Path:
    """The shared folder beside the checkout (``QABOOK_SHARED`` overrides)."""
    env = os.environ.get("QABOOK_SHARED")
    return Path(env) if env else TESTS.parents[1] / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/* from the current output instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = shared_dir() / "corpus"
    if not path.is_dir():
        pytest.skip(f"shared corpus not found at {path} (set QABOOK_SHARED)")
    return path


@pytest.fixture(scope="session")
def reference_bytes(corpus: Path) -> bytes:
    return (corpus / "000_8484edd62e7d6ec6.txt").read_bytes()


@pytest.fixture(scope="session")
def reference(reference_bytes: bytes):  # type: ignore[no-untyped-def]
    from qabook.pipeline import load

    return load(reference_bytes, "000_8484edd62e7d6ec6.txt")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "libreoffice: converts documents with LibreOffice (slow; skipped without soffice)")
    config.addinivalue_line("markers", "anki: imports decks into a real Anki collection (slow)")
