"""Run dbt as a subprocess with connection settings taken from the warehouse DSN.

A subprocess keeps dbt's global state out of the Airflow worker and of the test process.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.config import project_dir, warehouse_parts

log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    """dbt exited with an error; the message holds the tail of its output."""


@dataclass(frozen=True)
class DbtResult:
    args: tuple[str, ...]
    output: str


def dbt_dir() -> Path:
    return project_dir() / "dbt_project"


def dbt_env(dsn: str | None = None) -> dict[str, str]:
    """The environment dbt's profile reads (no secrets are written to disk)."""
    parts = warehouse_parts(dsn)
    env = dict(os.environ)
    env.update(
        D06_PG_HOST=parts.host,
        D06_PG_PORT=str(parts.port),
        D06_PG_USER=parts.user,
        D06_PG_PASSWORD=parts.password,
        D06_PG_DBNAME=parts.dbname,
        DBT_PROFILES_DIR=str(dbt_dir()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_USE_COLORS="false",
    )
    return env


TRANSIENT = ("deadlock detected",)
"""dbt errors that a second attempt clears.  dbt swaps a view by renaming and dropping its backup
with its dependants; two threads doing so at once can deadlock in PostgreSQL's catalog."""
ATTEMPTS = 3
PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a ``preexec_fn`` that makes dbt die (SIGKILL) when the process that started it
    dies, so that a killed Airflow worker leaves no ``dbt build`` running as an orphan (its retry
    on another worker builds the same models).  None elsewhere, or without ``prctl``."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, sig = os.getpid(), int(signal.SIGKILL)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def target_dir(build: str | None = None) -> Path:
    """Where dbt writes its manifest and partial-parse state (``DBT_TARGET_PATH``, else
    dbt_project/target), in a folder of its own for each ``build`` of the monthly run: the two
    builds set the marts' schema differently, and dbt parses the whole project again whenever
    that changes since the state it finds."""
    base = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    base = base if base.is_absolute() else dbt_dir() / base
    return base / build if build else base


def run_dbt(
    args: Sequence[str], *, dsn: str | None = None, env: Mapping[str, str] | None = None, build: str | None = None
) -> DbtResult:
    """Run ``dbt <args>`` in dbt_project/ (with ``env`` added to its environment, and the target
    folder of ``build``); raise :class:`DbtError` when it fails (after retrying a transient failure)."""
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe) if exe.exists() else "dbt", *args]
    env = {**(env or {}), "DBT_TARGET_PATH": str(target_dir(build))}
    for attempt in range(1, ATTEMPTS + 1):
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(
            cmd,
            cwd=dbt_dir(),
            env={**dbt_env(dsn), **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=_die_with_parent(),
        )
        output = proc.stdout + proc.stderr
        if proc.returncode == 0:
            return DbtResult(tuple(args), output)
        if attempt < ATTEMPTS and any(t in output for t in TRANSIENT):
            log.warning("dbt %s hit a transient error (attempt %d); running it again", " ".join(args), attempt)
            continue
        break
    tail = "\n".join(output.splitlines()[-40:])
    raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
