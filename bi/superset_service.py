"""Superset as a service of the product: its own virtual environment, metadata database and server.

    python -m bi.superset_service install  Superset's virtual environment, from the lock
    python -m bi.superset_service up     install (once), set up, import the bundle, start; print the address
    python -m bi.superset_service down   stop the server started by ``up``
    python -m bi.superset_service url    the address and login

Run with the project's Python (``make bi``); Superset itself runs only in .warehouse/bi-venv,
installed from bi/requirements.in with the lock bi/constraints.txt.  Its metadata database is
``d06_superset`` on the project's PostgreSQL (WAREHOUSE_DSN's server).  Secrets come from the
environment (SUPERSET_SECRET_KEY, SUPERSET_ADMIN_PASSWORD, D06_BI_READER_PASSWORD); for the local
stack, ``up`` generates the first two once into .warehouse/bi.env (mode 0600).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

BI = Path(__file__).resolve().parent
REPO = BI.parent
STATE = Path(os.environ.get("D06_DATA_DIR") or REPO / ".warehouse")
VENV = Path(os.environ.get("D06_BI_VENV") or REPO / ".warehouse" / "bi-venv")
METADATA_DB = "d06_superset"
ADMIN = "admin"
START_TIMEOUT = 180.0
PASSWORD_MASK = "XXXXXXXXXX"


def venv_bin(name: str) -> Path:
    return VENV / "bin" / name


def install(python: str = sys.executable) -> None:
    """Superset's virtual environment, from the lock; again only when the lock changed."""
    stamp = VENV / ".installed"
    lock = BI / "constraints.txt"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    if not venv_bin("python").exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    pip = [str(venv_bin("pip")), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(lock), "-r", str(BI / "requirements.in")], check=True)
    stamp.touch()


def _dsn_parts(dsn: str) -> tuple[str, str, str, int]:
    parts = urlsplit(dsn)
    return parts.username or "", parts.password or "", parts.hostname or "127.0.0.1", parts.port or 5432


def database_uri(dsn: str, dbname: str, *, user: str | None = None, with_password: bool = True) -> str:
    """A SQLAlchemy URI of ``dbname`` on the server of the libpq ``dsn`` (as ``user``)."""
    dsn_user, password, host, port = _dsn_parts(dsn)
    auth = quote(user or dsn_user, safe="")
    if with_password and password and user is None:
        auth += ":" + quote(password, safe="")
    elif not with_password:
        auth += ":" + PASSWORD_MASK  # Superset's import keeps the password given beside the URI
    return f"postgresql+psycopg2://{auth}@{host}:{port}/{dbname}"


def ensure_database(dsn: str, dbname: str) -> None:
    """Create ``dbname`` on the server of ``dsn`` unless it exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone() is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def local_secrets(path: Path) -> dict[str, str]:
    """SUPERSET_SECRET_KEY and SUPERSET_ADMIN_PASSWORD from the environment, else from ``path``
    (generated there once, mode 0600)."""
    saved: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            saved[key.strip()] = value.strip()
    for key in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD"):
        saved.setdefault(key, secrets.token_urlsafe(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in saved.items()), encoding="utf-8")
    return {k: os.environ.get(k) or v for k, v in saved.items()}


def superset_env(warehouse_dsn: str, metadata_uri: str, secret_key: str, home: Path) -> dict[str, str]:
    """Superset's environment: its config, secrets and the warehouse connection for the import."""
    dbname = urlsplit(warehouse_dsn).path.lstrip("/")
    return {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(BI / "superset_config.py"),
        "SUPERSET_SECRET_KEY": secret_key,
        "SUPERSET_DATABASE_URI": metadata_uri,
        "SUPERSET_HOME": str(home),
        "FLASK_APP": "superset.app:create_app()",
        "D06_BI_WAREHOUSE_URI": database_uri(warehouse_dsn, dbname, user="bi_reader", with_password=False),
        "PYTHONPATH": "",
    }


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        proc = subprocess.run(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(args[:3])} failed (exit {proc.returncode}):\n{tail}")


def set_up(env: dict[str, str], admin_password: str, log: Path) -> None:
    """Migrate the metadata database, create the admin and the roles, import the bundle."""
    superset = str(venv_bin("superset"))
    _run([superset, "db", "upgrade"], env, log)
    admin = ["--username", ADMIN, "--firstname", "Quản trị", "--lastname", "D06", "--email", "admin@d06.example"]
    _run([superset, "fab", "create-admin", *admin, "--password", admin_password], env, log)
    _run([superset, "init"], env, log)
    import_bundle(env, log)


def import_bundle(env: dict[str, str], log: Path) -> None:
    _run([str(venv_bin("python")), str(BI / "superset_admin.py"), "import"], env, log)


def add_scope(env: dict[str, str], login: str, user: str, log: Path) -> None:
    _run([str(venv_bin("python")), str(BI / "superset_admin.py"), "scope", "--login", login, "--user", user], env, log)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running Superset web server (gunicorn) on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(env: dict[str, str], port: int, log: Path, *, workers: int = 2) -> Server:
    """Start gunicorn in its own process group and wait until /health answers."""
    args = [
        str(venv_bin("gunicorn")),
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        "--threads=4",
        "--timeout=120",
        "superset.app:create_app()",
    ]
    out = log.open("a", encoding="utf-8")
    proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    server = Server(proc, port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Superset exited ({proc.returncode}); see {log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{server.url}/health", timeout=5) as answer:
            if answer.status == 200:
                return server
        time.sleep(1)
    stop(proc.pid)
    raise RuntimeError(f"Superset did not answer within {START_TIMEOUT:.0f} s; see {log}")


def stop(pid: int, timeout: float = 30.0) -> None:
    """Stop the server's process group (gunicorn and its workers): SIGTERM, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.killpg(pid, 0)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.3)
        os.killpg(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[Server]:
    """A server for the block; stopped afterwards whatever happens."""
    server = start(env, port or free_port(), log, workers=1)
    try:
        yield server
    finally:
        stop(server.process.pid)
        server.process.wait(timeout=10)


def _local_env() -> tuple[dict[str, str], dict[str, str]]:
    dsn = os.environ.get("WAREHOUSE_DSN") or sys.exit("WAREHOUSE_DSN is not set (source .warehouse/env.sh)")
    keys = local_secrets(STATE / "bi.env")
    ensure_database(dsn, METADATA_DB)
    env = superset_env(dsn, database_uri(dsn, METADATA_DB), keys["SUPERSET_SECRET_KEY"], STATE / "superset")
    return env, keys


def up(port: int) -> str:
    install()
    env, keys = _local_env()
    log = STATE / "superset.log"
    set_up(env, keys["SUPERSET_ADMIN_PASSWORD"], log)
    down()
    server = start(env, port, log)
    (STATE / "superset.pid").write_text(str(server.process.pid), encoding="utf-8")
    (STATE / "superset.port").write_text(str(port), encoding="utf-8")
    return server.url


def down() -> None:
    pid_file = STATE / "superset.pid"
    if pid_file.exists():
        stop(int(pid_file.read_text(encoding="utf-8")))
        pid_file.unlink()


def address() -> str:
    port = (STATE / "superset.port").read_text(encoding="utf-8").strip()
    return f"http://127.0.0.1:{port}/superset/dashboard/tong-quan-tinh/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Superset for the Đề án 06 dashboards")
    parser.add_argument("command", choices=["install", "up", "down", "url"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("D06_BI_PORT", "0")) or None)
    args = parser.parse_args(argv)
    if args.command == "install":
        install()
        return 0
    if args.command == "down":
        down()
        return 0
    if args.command == "up":
        up(args.port or free_port())
    keys = local_secrets(STATE / "bi.env")
    print(f"Bảng điều khiển (Superset): {address()}  đăng nhập: {ADMIN} / {keys['SUPERSET_ADMIN_PASSWORD']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
