"""Uploads, each in its own folder under a private temporary folder, named by a random id.

A file's own name never becomes a path: the upload is stored as ``input`` in a folder whose name
is an unguessable id (:func:`secrets.token_urlsafe`), inside a folder only this user can open
(``tempfile.mkdtemp`` makes it mode 0700). An upload expires ``keep`` seconds after it was last
used; expired ids are remembered (without their files) so the page can say "expired" rather than
"not found". :meth:`Store.close` removes everything; a folder left behind by a server that was
killed is removed by the next server that starts.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

PREFIX = "qabook-web-"
_OWNER = ".owner"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
_EXPIRED_MEMORY = 10_000


class UnknownUpload(Exception):
    """No upload has this id (or it was removed on request)."""


class ExpiredUpload(Exception):
    """The upload existed but was removed because it was not used for a while."""


@dataclass(eq=False)
class Upload:
    """One uploaded file or pasted text."""

    id: str
    folder: Path
    name: str = ""
    """The name to show (the file's base name, or "pasted text"); never used as a path."""
    size: int = 0
    pasted: bool = False
    used: float = 0.0
    results: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    """Conversions of this upload by options (the newest few)."""

    @property
    def input(self) -> Path:
        return self.folder / "input"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(parent: Path) -> int:
    """Remove folders of servers that were killed before they could clean up (only this user's)."""
    removed = 0
    try:
        candidates = list(parent.glob(PREFIX + "*"))
    except OSError:
        return 0
    for folder in candidates:
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / _OWNER).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


class Store:
    """The uploads of one server."""

    def __init__(self, keep: float = 3600.0, parent: str | None = None,
                 clock: Callable[[], float] = time.monotonic, results_per_upload: int = 3) -> None:
        base = Path(parent) if parent else Path(tempfile.gettempdir())
        remove_stale(base)
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
        os.chmod(self.root, 0o700)
        (self.root / _OWNER).write_text(str(os.getpid()))
        self.keep = keep
        self.clock = clock
        self.results_per_upload = results_per_upload
        self._uploads: dict[str, Upload] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.closed = False

    # ------------------------------------------------------------------ life of an upload

    def new(self) -> Upload:
        """A fresh folder for an upload that is still arriving (not visible until :meth:`add`)."""
        while True:
            ident = secrets.token_urlsafe(24)  # 32 characters, 192 bits
            folder = self.root / ident
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:  # pragma: no cover - 2**-192
                continue
            return Upload(ident, folder, used=self.clock())

    def add(self, upload: Upload) -> None:
        """Make an upload reachable by its id."""
        with self._lock:
            upload.used = self.clock()
            self._uploads[upload.id] = upload

    def discard(self, upload: Upload) -> None:
        """Remove an upload that failed or is no longer wanted, and its files."""
        with self._lock:
            self._uploads.pop(upload.id, None)
            upload.results.clear()
        shutil.rmtree(upload.folder, ignore_errors=True)

    def get(self, ident: str) -> Upload:
        """The upload with this id, marked as used now; raises if unknown or expired."""
        self.sweep()
        with self._lock:
            upload = self._uploads.get(ident) if _ID_RE.match(ident) else None
            if upload is None:
                if ident in self._expired:
                    raise ExpiredUpload(ident)
                raise UnknownUpload(ident)
            upload.used = self.clock()
            return upload

    def remove(self, ident: str) -> bool:
        """Remove an upload on request; True if there was one."""
        with self._lock:
            upload = self._uploads.pop(ident, None)
        if upload is None:
            return False
        self.discard(upload)
        return True

    def sweep(self) -> int:
        """Remove uploads not used for ``keep`` seconds; returns how many."""
        now = self.clock()
        with self._lock:
            old = [u for u in self._uploads.values() if now - u.used > self.keep]
            for u in old:
                del self._uploads[u.id]
                self._expired[u.id] = None
            while len(self._expired) > _EXPIRED_MEMORY:
                self._expired.popitem(last=False)
        for u in old:
            self.discard(u)
        return len(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._uploads)

    # ------------------------------------------------------------------ converted results

    def result(self, upload: Upload, key: Hashable) -> Any | None:
        with self._lock:
            value = upload.results.get(key)
            if value is not None:
                upload.results.move_to_end(key)
            return value

    def keep_result(self, upload: Upload, key: Hashable, value: Any) -> None:
        with self._lock:
            if self._uploads.get(upload.id) is not upload:
                return  # removed meanwhile: keep nothing
            upload.results[key] = value
            upload.results.move_to_end(key)
            while len(upload.results) > self.results_per_upload:
                upload.results.popitem(last=False)

    # ------------------------------------------------------------------ shutdown

    def close(self) -> None:
        """Remove every upload and the private folder."""
        with self._lock:
            self._uploads.clear()
            self.closed = True
        shutil.rmtree(self.root, ignore_errors=True)

    def scratch(self, upload: Upload, suffix: str) -> Path:
        """A new file name in the upload's folder for an output being written."""
        return upload.folder / f"out-{secrets.token_hex(8)}{suffix}"
