"""The wheel the image installs holds every file the package needs (issue 12).

A wheel that lacked ``ingest/warehouse/schema.sql`` made the first ``ingest`` task and
``d06 db init`` fail with ``FileNotFoundError`` in the image.  This builds the wheel as the
Dockerfile does (``pip`` from the project root, isolated build), checks it against every file
under ``ingest/`` in the work tree, then runs ``d06 db init`` from the unpacked wheel alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]


def _package_files() -> set[str]:
    return {
        str(p.relative_to(REPO))
        for p in (REPO / "ingest").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("d06_warehouse-*.whl")
    return built


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_package_files() - names)
    assert not missing, f"missing from the wheel: {missing}"
    assert "ingest/warehouse/schema.sql" in names


@pytest.mark.warehouse
def test_db_init_runs_from_the_unpacked_wheel_alone(wheel: Path, warehouse_dsn: str, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = (
        "import ingest, sys; assert ingest.__file__.startswith(sys.argv[1]);"
        "from ingest.cli import main; sys.exit(main(['db', 'init']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site"), "WAREHOUSE_DSN": warehouse_dsn},
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    with psycopg.connect(warehouse_dsn) as conn:
        found = conn.execute("select to_regclass('audit.load_ledger'), to_regclass('raw.plan_task_status')").fetchone()
    assert found == ("audit.load_ledger", "raw.plan_task_status")
