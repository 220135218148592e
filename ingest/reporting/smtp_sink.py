"""A real local SMTP server (aiosmtpd) that writes every message it receives to an outbox as .eml.

The demo and the tests use it in place of the province's mail server.

>>> with SmtpSink(outbox=Path("/tmp/outbox"), port=0) as sink:
...     print(sink.port)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


class _WriteEml:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.outbox.mkdir(parents=True, exist_ok=True)
        content: bytes = envelope.original_content or envelope.content
        match = re.search(rb"^Message-ID:\s*<?([^>\r\n]+)>?", content, re.IGNORECASE | re.MULTILINE)
        ident = re.sub(r"[^A-Za-z0-9._-]", "_", match.group(1).decode("ascii", "replace")) if match else "no-id"
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.outbox / f"{stamp}_{ident}.eml"
        tmp = target.with_suffix(".part")
        tmp.write_bytes(content)
        os.replace(tmp, target)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """Run an aiosmtpd server on 127.0.0.1 in a background thread."""

    def __init__(self, outbox: Path, port: int = 0) -> None:
        self.outbox = outbox
        self.port = port or _free_port()
        self._controller = Controller(_WriteEml(outbox), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()


def serve_forever(outbox: Path, port: int) -> None:
    """Run the sink in the foreground until SIGTERM/SIGINT."""
    with SmtpSink(outbox, port):
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        while not stop:
            time.sleep(0.2)


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def start_daemon(state_dir: Path, outbox: Path, port: int) -> int:
    """Start the sink as a background process (idempotent); return its port."""
    pidfile = state_dir / "smtp-sink.pid"
    if pidfile.exists():
        pid, _, old_port = pidfile.read_text().partition(":")
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 0)
            if _port_open(int(old_port)):
                return int(old_port)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = (state_dir / "smtp-sink.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.reporting.smtp_sink", str(outbox), str(port)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(50):
        if _port_open(port):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"SMTP sink did not start on port {port}; see {state_dir / 'smtp-sink.log'}")
    pidfile.write_text(f"{proc.pid}:{port}")
    return port


def stop_daemon(state_dir: Path) -> None:
    pidfile = state_dir / "smtp-sink.pid"
    if pidfile.exists():
        pid = pidfile.read_text().partition(":")[0]
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGTERM)
        pidfile.unlink()


if __name__ == "__main__":
    serve_forever(Path(sys.argv[1]), int(sys.argv[2]))
