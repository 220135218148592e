"""Back up and restore the warehouse database with PostgreSQL's own tools (``d06 db backup|restore``).

A backup is one ``pg_dump`` custom-format file of the warehouse database (WAREHOUSE_DSN): every
schema (raw, registry, audit, the dbt layers, the official marts, row-level-security policies),
written to a temporary name and renamed when complete, mode 0600.  It holds pseudonymised data
only (the warehouse never holds personal data in the clear); the encrypted raw archive of files
is backed up apart, with the data directory, and its Fernet key with the other secrets.

A restore runs ``pg_restore --clean --if-exists --single-transaction`` into the database
WAREHOUSE_DSN names: all or nothing.  It refuses a database that already holds loaded files
unless ``force`` is given, so that a restore never overwrites a live warehouse by mistake.
Roles (``bi_reader``, ``unit_reader``, reader logins) belong to the cluster, not the database:
a restore on a new server needs them created first (``d06 db init``, ``d06 grant reader``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg

from ingest.config import warehouse_dsn, warehouse_parts

PG_BIN = Path("/usr/lib/postgresql/15/bin")
"""The server's own major version of the tools, when installed; else the ones on PATH."""


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why, in both languages."""


def _tool(name: str) -> str:
    own = PG_BIN / name
    found = str(own) if own.exists() else shutil.which(name)
    if not found:
        raise BackupError(f"Không tìm thấy {name} / {name} is not installed (postgresql-client)")
    return found


def _run(args: list[str], dsn: str) -> None:
    p = warehouse_parts(dsn)
    env = {**os.environ, "PGHOST": p.host, "PGPORT": str(p.port), "PGUSER": p.user, "PGPASSWORD": p.password}
    env["PGDATABASE"] = p.dbname
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()][-5:]
        raise BackupError(f"{Path(args[0]).name} thất bại / failed: " + " | ".join(lines))


def backup(out: Path, dsn: str | None = None) -> Path:
    """Dump the warehouse to ``out`` (custom format); return its path once complete."""
    dsn = dsn or warehouse_dsn()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        _run([_tool("pg_dump"), "--format=custom", "--no-password", f"--file={partial}"], dsn)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    return out


def _loaded_files(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        if conn.execute("select to_regclass('audit.load_ledger')").fetchone() == (None,):
            return 0
        (n,) = conn.execute("select count(*) from audit.load_ledger").fetchone()  # type: ignore[misc]
    return int(n)


def restore(src: Path, dsn: str | None = None, *, force: bool = False) -> None:
    """Restore the backup ``src`` into the warehouse database, in one transaction."""
    dsn = dsn or warehouse_dsn()
    if not src.is_file():
        raise BackupError(f"Không có tệp sao lưu {src} / no backup file {src}")
    loaded = _loaded_files(dsn)
    if loaded and not force:
        raise BackupError(
            f"Cơ sở dữ liệu đã có {loaded} tệp đã nạp; dùng --force để ghi đè / "
            f"the database already holds {loaded} loaded files; use --force to replace it"
        )
    args = [_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-password"]
    _run([*args, f"--dbname={warehouse_parts(dsn).dbname}", str(src)], dsn)
