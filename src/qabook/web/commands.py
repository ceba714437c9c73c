"""``qabook serve``: start the local web page (Starlette on uvicorn, imported only when it runs)."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import sys
import threading
import time

import click

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
DEFAULT_PORT = 8765


def parse_size(text: str) -> int:
    """``500MB``, ``2GB``, ``1.5g``, ``800k``, ``1000000`` (bytes); units are powers of 1024."""
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (examples: 500MB, 2GB)")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value < 1:
        raise ValueError(f"{text!r} is too small")
    return value


def _size_option(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _bind(host: str, port: int) -> tuple[socket.socket, bool]:
    """A listening socket on ``host``:``port``, and whether that address is this computer only."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if address[0] == "::" else 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    try:
        loopback = ipaddress.ip_address(str(address[0]).split("%", 1)[0]).is_loopback
    except ValueError:
        loopback = False
    return sock, loopback


def _url(sock: socket.socket, loopback: bool) -> str:
    host, port = sock.getsockname()[:2]
    if not loopback and host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


@click.command("serve")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything other than this computer (127.0.0.1, localhost, ::1) "
                   "lets others on the network use this qabook and see what it converts.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
@click.option("--max-upload", default="500MB", show_default=True, metavar="SIZE", callback=_size_option,
              help="Largest file (or pasted text) accepted, e.g. 200MB or 2GB.")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=1),
              metavar="SECONDS", help="Longest a conversion may take.")
@click.option("--keep", default=60.0, show_default=True, type=click.FloatRange(min=1), metavar="MINUTES",
              help="Remove an upload this long after it was last used.")
@click.option("--workers", default=None, type=click.IntRange(1, 64), metavar="N",
              help="Conversions that may run at the same time (default: the number of CPUs, at most 4).")
def serve_command(port: int, host: str, open_browser: bool, max_upload: int, timeout: float, keep: float,
                  workers: int | None) -> None:
    """Start a local web page: drop a chat in, get the documents out.

    The page shows what qabook found (sections, items, renditions, repairs, what to review and a
    preview) and downloads DOCX, Markdown, HTML, Anki and the review. Everything stays on this
    computer: uploads live in a private temporary folder and are removed after --keep minutes
    without use, when you remove them on the page, or when qabook stops (Ctrl+C).
    """
    try:
        import uvicorn

        from qabook.web.app import LOOPBACK_HOSTS, Settings, create_app
    except ImportError as exc:  # pragma: no cover - the web packages are dependencies
        click.echo(f"qabook: error: serve needs {exc.name}: pip install 'qabook' again to get it", err=True)
        sys.exit(2)

    try:
        sock, loopback = _bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = f"port {port} is in use (another qabook serve?); choose another with --port"
        elif isinstance(exc, socket.gaierror):
            message = f"cannot listen on {host!r}: unknown address"
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        click.echo(f"qabook: error: {message}", err=True)
        sys.exit(2)

    url = _url(sock, loopback)
    if not loopback:
        click.echo(f"qabook: warning: listening on {host}, not only on this computer: anyone who can reach "
                   f"this computer on port {sock.getsockname()[1]} can use this qabook and download what it "
                   "converts. Use --host 127.0.0.1 unless you mean it.", err=True)
    defaults = Settings()
    settings = Settings(max_upload=max_upload, timeout=timeout, keep=keep * 60,
                        workers=workers or defaults.workers,
                        hosts=LOOPBACK_HOSTS if loopback else ("*",))
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_keep_alive=5, timeout_graceful_shutdown=5,
                            h11_max_incomplete_event_size=4 * 1024 * 1024)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            click.echo(f"qabook is running at {url}  (Ctrl+C stops it)")
            if open_browser:
                import webbrowser

                webbrowser.open(url)

    threading.Thread(target=announce, name="qabook-announce", daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after shutting down cleanly
        pass
    finally:
        sock.close()
    click.echo("qabook stopped; its temporary files were removed.")


COMMANDS = [serve_command]
