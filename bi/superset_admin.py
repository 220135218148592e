"""Superset-side administration, run with Superset's own Python (.warehouse/bi-venv/bin/python).

    superset_admin.py import [--bundle DIR]
        import the bundle (bi/bundle) idempotently: the same UUIDs are overwritten, never doubled.
        The warehouse connection is D06_BI_WAREHOUSE_URI (without password) and
        D06_BI_READER_PASSWORD.
    superset_admin.py metadata-db
        create the metadata database of SUPERSET_DATABASE_URI unless it exists (docker-compose).
    superset_admin.py scope --login NAME --user NAME
        a Superset user who sees the warehouse as the scoped database login NAME (``d06 grant
        reader``): a role ``d06_login:NAME``, a hidden connection of that login (password from
        D06_READER_PASSWORD) and the user (password from D06_BI_USER_PASSWORD), with Gamma.

Nothing here is imported by the ``ingest`` package; it needs Superset's application context.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

BUNDLE = Path(__file__).resolve().parent / "bundle"
DATABASE_FILE = "databases/Kho_De_an_06.yaml"
LOGIN_ROLE_PREFIX = "d06_login:"
VIEWER_ROLE = "Gamma"
ADMIN = "admin"
PASSWORD_MASK = "XXXXXXXXXX"


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def bundle_contents(folder: Path) -> dict[str, str]:
    """Every YAML file of the bundle by its path in the bundle, the warehouse address filled in."""
    import yaml

    contents = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.yaml"))}
    database = yaml.safe_load(contents[DATABASE_FILE])
    scheme, _, rest = _env("D06_BI_WAREHOUSE_URI").partition("://")
    user, _, address = rest.rpartition("@")
    # The password is given beside the URI; Superset's import keeps it when the URI holds the mask.
    database["sqlalchemy_uri"] = f"{scheme}://{user.partition(':')[0]}:{PASSWORD_MASK}@{address}"
    contents[DATABASE_FILE] = yaml.safe_dump(database, allow_unicode=True, sort_keys=False)
    return contents


def import_bundle(folder: Path) -> None:
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.utils.core import override_user

    contents = bundle_contents(folder)
    with override_user(security_manager.find_user(username=ADMIN)):
        ImportAssetsCommand(contents, passwords={DATABASE_FILE: _env("D06_BI_READER_PASSWORD")}).run()
    print(f"imported {len(contents)} files from {folder}")


def _warehouse() -> Any:
    from superset import db
    from superset.models.core import Database

    return db.session.query(Database).filter_by(database_name="Kho Đề án 06").one()


def add_scope(login: str, username: str) -> None:
    """The scoped connection, its role and a user holding it (created or updated)."""
    from superset import db, security_manager
    from superset.models.core import Database

    warehouse = _warehouse()
    name = LOGIN_ROLE_PREFIX + login
    scoped = db.session.query(Database).filter_by(database_name=name).one_or_none() or Database(database_name=name)
    scoped.sqlalchemy_uri = str(warehouse.url_object.set(username=login, password=None))
    scoped.password = _env("D06_READER_PASSWORD")
    scoped.expose_in_sqllab = False
    db.session.add(scoped)
    role = security_manager.find_role(name) or security_manager.add_role(name)
    for perm, view in (("all_datasource_access", "all_datasource_access"), ("can_read", "Dashboard")):
        pv = security_manager.find_permission_view_menu(perm, view)
        if pv is not None and pv not in role.permissions:
            role.permissions.append(pv)
    roles = [security_manager.find_role(VIEWER_ROLE), role]
    user = security_manager.find_user(username=username)
    password = _env("D06_BI_USER_PASSWORD")
    if user is None:
        user = security_manager.add_user(username, username, login, f"{username}@d06.example", roles, password)
        if not user:
            raise SystemExit(f"could not create the Superset user {username}")
    else:
        user.roles = roles
        security_manager.reset_password(user.id, password)
    db.session.commit()
    print(f"Superset user {username} reads the warehouse as {login}")


def ensure_metadata_database(uri: str) -> None:
    """Create the database of ``uri`` on its server (through the ``postgres`` database) if missing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("select 1 from pg_database where datname = :d"), {"d": url.database}).first() is None:
            conn.execute(text(f'create database "{url.database}"'))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Superset administration for the Đề án 06 dashboards")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import")
    imp.add_argument("--bundle", type=Path, default=BUNDLE)
    scope = sub.add_parser("scope")
    scope.add_argument("--login", required=True)
    scope.add_argument("--user", required=True)
    sub.add_parser("metadata-db", help="create the metadata database of SUPERSET_DATABASE_URI unless it exists")
    args = parser.parse_args(argv)
    if args.command == "metadata-db":
        ensure_metadata_database(_env("SUPERSET_DATABASE_URI"))
        return 0

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        if args.command == "import":
            import_bundle(args.bundle)
        else:
            add_scope(args.login, args.user)
    return 0


if __name__ == "__main__":
    sys.exit(main())
