"""Superset's configuration for the Đề án 06 dashboards (SUPERSET_CONFIG_PATH points here).

Loaded by Superset in its own virtual environment (.warehouse/bi-venv); it imports nothing from
the ``ingest`` package.  Every secret comes from the environment:

- ``SUPERSET_SECRET_KEY``: signs sessions and encrypts the connection passwords in the metadata DB;
- ``SUPERSET_DATABASE_URI``: the metadata database (a database of its own on the project's
  PostgreSQL: ``make bi`` creates ``d06_superset``).

Row-level security is PostgreSQL's (ingest/warehouse/access.py): a Superset user whose roles
include ``d06_login:<login>`` queries the warehouse as that scoped database login (``d06 grant
reader``), whose password Superset keeps encrypted in the connection named ``d06_login:<login>``
(bi/superset_admin.py ``scope``).  Anyone else queries as the connection's own login (bi_reader).
"""

from __future__ import annotations

import os
from typing import Any

LOGIN_ROLE_PREFIX = "d06_login:"


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: Superset's secrets come from the environment")
    return value


SECRET_KEY = _required("SUPERSET_SECRET_KEY")
SQLALCHEMY_DATABASE_URI = _required("SUPERSET_DATABASE_URI")

# Officials read Vietnamese: labels are the bundle's; numbers use the Vietnamese separators
# (1.234.567,89) and dates day/month/year.
BABEL_DEFAULT_LOCALE = "en"
D3_FORMAT = {
    "decimal": ",",
    "thousands": ".",
    "grouping": [3],
    "currency": ["", " ₫"],
}
D3_TIME_FORMAT = {
    "dateTime": "%A, %e/%m/%Y, %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"Tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}

# No result is cached: the same query returns different rows to different logins (row-level
# security in the database), so a cache keyed on the SQL alone would leak rows between them.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True, "ENABLE_TEMPLATE_PROCESSING": False}
# The tests and make bi run it on the loopback address without TLS.
TALISMAN_ENABLED = os.environ.get("SUPERSET_TALISMAN", "0") == "1"
SESSION_COOKIE_SECURE = os.environ.get("SUPERSET_SECURE_COOKIES", "0") == "1"
WTF_CSRF_ENABLED = True
WTF_CSRF_EXEMPT_LIST = ["superset.views.core.log", "superset.charts.data.api.data"]
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50000
PREVENT_UNSAFE_DB_CONNECTIONS = True
SUPERSET_LOG_VIEW = False


def _scoped_login(username: str | None, security_manager: Any) -> str | None:
    """The scoped database login of a Superset user (its one ``d06_login:<login>`` role), or None.

    Fails closed: a user with two such roles gets an error, never the connection's own login."""
    user = security_manager.find_user(username=username) if username else None
    roles = [r.name for r in (user.roles if user else [])]
    logins = [name[len(LOGIN_ROLE_PREFIX) :] for name in roles if name.startswith(LOGIN_ROLE_PREFIX)]
    if len(logins) > 1:
        raise PermissionError(f"user {username} has several scoped logins: {logins}")
    return logins[0] if logins else None


def DB_CONNECTION_MUTATOR(uri: Any, params: Any, username: str | None, security_manager: Any, source: Any) -> Any:
    """Query the warehouse as the user's scoped login, so that PostgreSQL's policies choose the rows."""
    login = _scoped_login(username, security_manager)
    if login is None:
        return uri, params
    from superset import db
    from superset.models.core import Database

    scoped = db.session.query(Database).filter_by(database_name=LOGIN_ROLE_PREFIX + login).one_or_none()
    if scoped is None or scoped.url_object.username != login:
        raise PermissionError(f"no warehouse connection for the scoped login {login}")
    return uri.set(username=login, password=scoped.password), params
