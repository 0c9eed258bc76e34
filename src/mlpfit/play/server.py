"""`mlpfit play`: serve the playground with uvicorn and open it in the browser."""

# Deferred imports: uvicorn loads when the server starts.

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
import webbrowser

from mlpfit.errors import UsageError
from mlpfit.play.app import allowed_hosts, create_app, is_loopback


def serve(host: str = "127.0.0.1", port: int = 8765, runs_dir: str = "runs", open_browser: bool = True) -> None:
    """Run until Ctrl-C. Port 0 takes any free port; the address is printed either way."""
    import uvicorn

    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}")
    sock = bind(host, port)
    warning = host_warning(host, runs_dir)
    if warning:
        print(warning, file=sys.stderr)
    url = f"http://{_url_host(host)}:{sock.getsockname()[1]}/"
    print(f"mlpfit play: {url}  (runs in {runs_dir}; Ctrl-C stops)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(runs_dir, allowed_hosts(host)), log_level="warning",
                                           timeout_graceful_shutdown=2))
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    server.run(sockets=[sock])


def host_warning(host: str, runs_dir: str) -> str | None:
    """What listening on a non-loopback address gives away, said once at start (None on loopback)."""
    if is_loopback(host):
        return None
    return (f"mlpfit: warning: --host {host} is not a loopback address: anyone who can reach this machine can "
            f"train models on it and write run folders into {runs_dir}, and the Host header is not checked "
            "(any name that resolves to this machine is served, so DNS rebinding is not stopped)")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts so a busy port is one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is in use: choose another --port (or --port 0 for any free one)") from None
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror or err}): check --host and --port") from None
    sock.listen(128)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Background:
    """The playground served from a thread (tests, benchmarks): read ``url``, call ``stop()``."""

    def __init__(self, runs_dir: str, host: str = "127.0.0.1"):
        import uvicorn

        sock = bind(host, 0)
        self.app = create_app(runs_dir, allowed_hosts(host))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        self.url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 30
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError("the playground server did not start")

    @property
    def pages(self):
        return self.app.state.pages

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
