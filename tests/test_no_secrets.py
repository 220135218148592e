"""No secret is written into the repository or into what `docker build` is sent (issue 12 §6).

Secrets come from the environment or Airflow connections only.  This test reads every file git
tracks, and every file of the image's build context (the working tree minus .dockerignore, the
way `docker build` selects it), and looks for what a secret looks like: private keys, cloud and
forge tokens, passwords in connection URIs, and long literal values assigned to a name that says
password, secret, token or key.  Placeholders (``${VAR}``, ``change-me``, ``<…>``) are not
secrets.  The only literal keys allowed are the throw-away test keys of tests/conftest.py, listed
below by file and name.

The patterns are checked against planted examples first, so a pattern that matches nothing
cannot pass unnoticed.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 2_000_000

PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password in a URI": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:(?P<value>[^\s@/'\"]{4,})@"),
    "literal secret": re.compile(
        r"(?i)\b[\w-]*(?:password|passwd|secret|token|api_key|fernet_key|private_key)[\w-]*\b['\"]?\s*[:=]\s*"
        r"['\"](?P<value>[^'\"\s]{12,})['\"]"
    ),
}
PLACEHOLDER = re.compile(r"(?i)^(?:\$\{?[\w:?\-]+\}?|change-?me.*|<[^>]*>|\{[^}]*\}|%\(?\w*\)?s?|x+|\*+|\.\.\.|…)$")
# A value that is code, not a secret: an expression, a call, an attribute or a format field.
CODE = re.compile(r"[(){}\[\]$%]|^\w+\.\w+|^os\.|^f[A-Z_]")
ALLOWED = {
    # Throw-away keys for the tests only (tests/conftest.py says so); never used elsewhere.
    ("tests/conftest.py", "D06_PSEUDONYM_KEY"),
    ("tests/conftest.py", "D06_ARCHIVE_KEY"),
}
# Assembled at run time, so that this file holds no secret-looking text itself.
PLANTED = {
    "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "AWS access key": "aws = AKIA" + "IOSFODNN7EXAMPLE",
    "GitHub token": "ghp_" + "a1B2" * 9,
    "Slack token": "xoxb" + "-1234567890-abcdefghij",
    "password in a URI": "postgresql://d06:" + "S3cr3t-Pa55word@warehouse-db:5432/d06",
    "literal secret": "AIRFLOW_JWT_SECRET = " + '"u8QwXk2V9sLmZ1pT7rYcN4bH"',
}
NOT_SECRETS = [
    "postgresql://d06:${WAREHOUSE_DB_PASSWORD:?set WAREHOUSE_DB_PASSWORD}@warehouse-db:5432/d06",
    "METADATA_DB_PASSWORD=change-me",
    'password = os.environ.get("D06_BI_READER_PASSWORD")',
    "smtp://${D06_SMTP_USER:-d06-warehouse}:${D06_SMTP_PASSWORD:?set D06_SMTP_PASSWORD}@mailcatcher:1025",
]


def findings(text: str) -> Iterator[tuple[str, str]]:
    """(kind, matched text) of every secret-looking value in ``text``."""
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            value = m.groupdict().get("value") or m.group(0)
            if PLACEHOLDER.match(value) or (kind != "private key" and CODE.search(value)):
                continue
            yield kind, m.group(0)


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p]


def _dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [ln.strip().rstrip("/") for ln in lines if ln.strip() and not ln.startswith("#")]


def _ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p.split("/")[-1], bare) for p in prefixes):
            return True
    return False


def _build_context() -> list[Path]:
    """The files `docker build .` is sent: the working tree minus .dockerignore."""
    patterns, files = _dockerignore(), []
    for root, dirs, names in os.walk(REPO):
        rel_root = os.path.relpath(root, REPO)
        rel_root = "" if rel_root == "." else rel_root + "/"
        dirs[:] = [d for d in dirs if not _ignored(rel_root + d, patterns)]
        files += [Path(root, n) for n in names if not _ignored(rel_root + n, patterns)]
    return files


def _scan(paths: list[Path]) -> list[str]:
    found = []
    for path in sorted(set(paths)):
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        rel = str(path.relative_to(REPO))
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for kind, match in findings(text):
            if any(rel == f and name in match for f, name in ALLOWED):
                continue
            found.append(f"{rel}: {kind}: {match[:60]}")
    return found


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_pattern_finds_its_planted_secret(kind: str) -> None:
    assert kind in {k for k, _ in findings(PLANTED[kind])}


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_placeholders_and_environment_lookups_are_not_secrets(text: str) -> None:
    assert list(findings(text)) == []


def test_no_secret_in_the_repository() -> None:
    assert _scan(_tracked()) == []


def test_no_secret_in_the_image_build_context() -> None:
    files = _build_context()
    rel = {str(p.relative_to(REPO)) for p in files}
    assert "docker/Dockerfile" in rel and not any(r.startswith((".venv/", ".git/", ".warehouse/")) for r in rel)
    assert not any(Path(r).name == ".env" for r in rel), "an .env file would be sent to docker build"
    assert _scan(files) == []
