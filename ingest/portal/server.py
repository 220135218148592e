"""Run the portal: in the foreground with uvicorn, or as a background process with a pid file
under the data directory (like the local SMTP sink).

>>> start_daemon(config.data_dir(), "127.0.0.1", config.portal_port())
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PID_FILE = "portal.pid"
LOG_FILE = "portal.log"


def serve(host: str, port: int) -> None:
    """Serve the portal in the foreground until interrupted.  No access log: it would hold
    client addresses (personal data).  Proxy headers are read by the application itself, from
    ``D06_PORTAL_TRUSTED_PROXIES`` only."""
    import uvicorn

    from ingest.portal.app import create_app

    uvicorn.run(create_app(), host=host, port=port, access_log=False, proxy_headers=False, log_level="info")


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _probe_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host


def start_daemon(state_dir: Path, host: str, port: int, *, wait_seconds: float = 30) -> int:
    """Start ``d06 portal serve`` in the background (idempotent); return its port."""
    pidfile = state_dir / PID_FILE
    if pidfile.exists():
        pid, _, old_port = pidfile.read_text().partition(":")
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 0)
            if _port_open(_probe_host(host), int(old_port)):
                return int(old_port)
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOG_FILE).open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.cli", "portal", "serve", "--host", host, "--port", str(port)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + wait_seconds
    while not _port_open(_probe_host(host), port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the portal did not start on port {port}; see {state_dir / LOG_FILE}")
        time.sleep(0.2)
    pidfile.write_text(f"{proc.pid}:{port}")
    return port


def stop_daemon(state_dir: Path) -> bool:
    """Stop the background portal started by :func:`start_daemon`; False when none was running."""
    pidfile = state_dir / PID_FILE
    if not pidfile.exists():
        return False
    pid = pidfile.read_text().partition(":")[0]
    stopped = False
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pid), signal.SIGTERM)
        stopped = True
    pidfile.unlink()
    return stopped
