"""Static checks of the deployment files: docker-compose.yml, docker/Dockerfile, docker/.env.example.

No Docker engine is needed: the files are parsed and cross-checked against each other and
against the repository tree.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
GITIGNORE = ROOT / ".gitignore"

AIRFLOW_PREFIX = "airflow-"
ONE_SHOT = "airflow-init"
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
BACKING_IMAGES = {
    "redis": "redis:7",
    "metadata-db": "postgres:15",
    "warehouse-db": "postgres:15",
    "mailcatcher": "axllent/mailpit",
}
PLACEHOLDER = "change-me"

# `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
SECRET_KEY_NAME = re.compile(r"(?:PASSWORD|SECRET|TOKEN|_KEY)$", re.IGNORECASE)
SYMBOL = re.compile(r"__([A-Za-z_][A-Za-z0-9_]*)__")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _load_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    assert isinstance(data.get("services"), dict), "docker-compose.yml has no services"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def airflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {name: svc for name, svc in services.items() if name.startswith(AIRFLOW_PREFIX)}
    assert found, "no airflow-* services in docker-compose.yml"
    return found


def _env(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, list or mapping form, as a dict of strings."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in raw)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _healthcheck_test(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test", "")
    return " ".join(str(part) for part in test) if isinstance(test, list) else str(test)


def _strings(node: Any) -> Iterator[str]:
    """Every string (keys and values) in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _interpolations(compose: dict[str, Any]) -> list[re.Match[str]]:
    matches: list[re.Match[str]] = []
    for text in _strings(compose):
        matches.extend(INTERPOLATION.finditer(text.replace("$$", "")))
    return matches


def _read_env_example() -> dict[str, str]:
    assert ENV_EXAMPLE.is_file(), f"{ENV_EXAMPLE} is missing"
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assert "=" in stripped, f"docker/.env.example: not KEY=value: {line!r}"
        key, value = stripped.split("=", 1)
        values[key.strip()] = value.strip()
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Minimal Compose interpolation, enough to resolve the values this project uses."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        value = env.get(name)
        if op in {":-", "-"}:
            return value if value or (op == "-" and value is not None) else arg
        if op in {":?", "?"}:
            assert value, f"${{{name}}} is required: {arg}"
            return value
        if op in {":+", "+"}:
            return arg if value else ""
        return value or ""

    return INTERPOLATION.sub(replace, text.replace("$$", "\0")).replace("\0", "$")


def _symbolic(text: str) -> str:
    """Replace every `${VAR...}` by `__VAR__`, so that URLs parse and each value shows its source."""
    return INTERPOLATION.sub(lambda m: f"__{m['name']}__", text.replace("$$", "\0")).replace("\0", "$")


def _url(service: dict[str, Any], key: str) -> SplitResult:
    return urlsplit(_symbolic(_env(service).get(key, "")))


def _volume_source(entry: Any) -> tuple[str | None, str]:
    """(source, type) of a service volume entry in short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("source"), entry.get("type", "volume")
    parts = str(entry).split(":")
    if len(parts) == 1:
        return None, "volume"  # anonymous volume
    source = parts[0]
    kind = "bind" if source.startswith((".", "/", "~")) else "volume"
    return source, kind


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuation lines joined."""
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    instructions: list[tuple[str, str]] = []
    buffer = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        if buffer:
            keyword, _, args = buffer.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
        buffer = ""
    return instructions


def _dockerfile_args(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def _copy_parts(args: str) -> tuple[list[str], list[str]]:
    """(flags, sources) of a COPY/ADD instruction; the last argument is the destination."""
    flags: list[str] = []
    rest = args
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.lstrip()
    return flags, _dockerfile_args(rest)[:-1]


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in _dockerfile_instructions():
        if keyword == "ENV":
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                env[key] = value
    return env


# ----------------------------------------------------------------------------------------------
# docker-compose.yml: services and their wiring
# ----------------------------------------------------------------------------------------------


def test_required_services_exist(services: dict[str, dict[str, Any]]) -> None:
    missing = sorted((set(AIRFLOW_COMMANDS) | set(BACKING_IMAGES) | {ONE_SHOT}) - set(services))
    assert not missing, f"docker-compose.yml lacks services: {missing}"


@pytest.mark.parametrize(("name", "command"), sorted(AIRFLOW_COMMANDS.items()))
def test_airflow_service_runs_its_component(services: dict[str, dict[str, Any]], name: str, command: str) -> None:
    assert _command(services[name]) == command, f"{name} should run `airflow {command}`"


def test_init_service_migrates_the_database(services: dict[str, dict[str, Any]]) -> None:
    """airflow-init runs docker/airflow-init.sh (the script make test-deploy runs): migration, the
    pool, the FAB admin login with a password from the environment."""
    init = services[ONE_SHOT]
    assert init["entrypoint"] == ["bash", "/opt/d06/docker/airflow-init.sh"]
    script = (ROOT / "docker" / "airflow-init.sh").read_text()
    assert "airflow db migrate" in script and "airflow users create" in script
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert str(init.get("restart", "no")) == "no", "airflow-init is one-shot and must not restart"


def test_the_stack_uses_an_auth_manager_with_hashed_passwords(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        env = service.get("environment") or {}
        if "AIRFLOW__CORE__EXECUTOR" in env:
            assert env.get("AIRFLOW__CORE__AUTH_MANAGER", "").endswith("fab_auth_manager.FabAuthManager"), name
            assert not any("SIMPLE_AUTH_MANAGER" in k for k in env), name


@pytest.mark.parametrize(("name", "image"), sorted(BACKING_IMAGES.items()))
def test_backing_service_images(services: dict[str, dict[str, Any]], name: str, image: str) -> None:
    assert str(services[name].get("image", "")).startswith(image), f"{name} should use {image}"
    assert "build" not in services[name]


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if str(service.get("restart", "")) == "no":
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
        test = healthcheck.get("test")
        assert test and test not in (["NONE"], "NONE"), f"{name} has an empty healthcheck test"
        if isinstance(test, list):
            assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test must start with CMD/CMD-SHELL"


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("airflow-apiserver", "localhost:8080/api/v2/version"),
        ("airflow-scheduler", "localhost:8974/health"),
        ("airflow-dag-processor", "--job-type DagProcessorJob"),
        ("airflow-triggerer", "--job-type TriggererJob"),
        ("airflow-worker", "inspect ping"),
        ("redis", "redis-cli ping"),
        ("metadata-db", "pg_isready"),
        ("warehouse-db", "pg_isready"),
    ],
)
def test_healthcheck_probes_the_right_thing(services: dict[str, dict[str, Any]], name: str, needle: str) -> None:
    assert needle in _healthcheck_test(services[name]), f"{name} healthcheck should use {needle!r}"


def test_scheduler_health_server_is_enabled(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["airflow-scheduler"])
    if "8974/health" in _healthcheck_test(services["airflow-scheduler"]):
        assert env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "").lower() == "true"


def test_airflow_services_use_the_project_image(airflow_services: dict[str, dict[str, Any]]) -> None:
    for name, service in airflow_services.items():
        build = service.get("build")
        assert isinstance(build, dict), f"{name} must build the project image (build: context/dockerfile)"
        context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
        assert context == ROOT, f"{name}: build context must be the repository root, not {context}"
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE, (
            f"{name}: dockerfile must be docker/Dockerfile"
        )


def test_airflow_services_use_celery(airflow_services: dict[str, dict[str, Any]]) -> None:
    for name, service in airflow_services.items():
        env = _env(service)
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", f"{name}: executor is not Celery"
        assert _url(service, "AIRFLOW__CELERY__BROKER_URL").hostname == "redis", name
        assert _url(service, "AIRFLOW__CELERY__RESULT_BACKEND").hostname == "metadata-db", name


def test_airflow_services_share_settings(
    services: dict[str, dict[str, Any]], airflow_services: dict[str, dict[str, Any]]
) -> None:
    required = (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "WAREHOUSE_DSN",
        "AIRFLOW_CONN_WAREHOUSE",
        "D06_INBOX",
        "D06_DATA_DIR",
    )
    reference = _env(services["airflow-apiserver"])
    for name, service in airflow_services.items():
        env = _env(service)
        for key in required:
            assert env.get(key), f"{name} lacks {key}"
            assert env[key] == reference[key], f"{name}: {key} differs from airflow-apiserver"


def test_execution_api_url_points_at_the_api_server(services: dict[str, dict[str, Any]]) -> None:
    url = _url(services["airflow-apiserver"], "AIRFLOW__CORE__EXECUTION_API_SERVER_URL")
    assert url.hostname in services, f"execution API host {url.hostname!r} is not a service"
    assert _command(services[url.hostname]) == "api-server"
    assert url.port == 8080
    assert url.path.rstrip("/") == "/execution"


@pytest.mark.parametrize(
    ("variable", "database_service"),
    [
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "metadata-db"),
        ("AIRFLOW__CELERY__RESULT_BACKEND", "metadata-db"),
        ("WAREHOUSE_DSN", "warehouse-db"),
        ("AIRFLOW_CONN_WAREHOUSE", "warehouse-db"),
    ],
)
def test_database_urls_match_their_server(
    services: dict[str, dict[str, Any]], variable: str, database_service: str
) -> None:
    url = _url(services["airflow-apiserver"], variable)
    db = {key: _symbolic(value) for key, value in _env(services[database_service]).items()}
    assert url.hostname == database_service
    assert (url.port or 5432) == 5432
    assert url.username == db["POSTGRES_USER"], f"{variable}: user differs from {database_service}"
    assert url.path.lstrip("/") == db.get("POSTGRES_DB", db["POSTGRES_USER"])
    assert url.password == db["POSTGRES_PASSWORD"], f"{variable}: password differs from {database_service}"


def test_smtp_points_at_the_mail_catcher(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["airflow-worker"])
    hosts = {_url(services["airflow-worker"], "AIRFLOW_CONN_SMTP_DEFAULT").hostname, env.get("D06_SMTP_HOST")}
    assert "mailcatcher" in hosts, "neither AIRFLOW_CONN_SMTP_DEFAULT nor D06_SMTP_HOST targets mailcatcher"


def test_data_volume_on_every_airflow_service(
    compose: dict[str, Any], airflow_services: dict[str, dict[str, Any]]
) -> None:
    assert "d06-data" in (compose.get("volumes") or {})
    for name, service in airflow_services.items():
        assert "d06-data:/data" in [str(v) for v in service.get("volumes", [])], f"{name} lacks d06-data"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for entry in service.get("volumes", []):
            source, kind = _volume_source(entry)
            if source and kind == "volume":
                assert source in declared, f"{name}: volume {source!r} is not declared at top level"


def test_databases_persist_to_named_volumes(services: dict[str, dict[str, Any]]) -> None:
    for name in ("metadata-db", "warehouse-db"):
        targets = [str(entry).split(":")[1] for entry in services[name].get("volumes", [])]
        assert "/var/lib/postgresql/data" in targets, f"{name} data is not on a volume"


def test_depends_on_uses_conditions(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form with conditions"
        for target, spec in depends_on.items():
            assert target in services, f"{name} depends on unknown service {target!r}"
            condition = (spec or {}).get("condition")
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target} health: none defined"
            elif condition == "service_completed_successfully":
                assert str(services[target].get("restart", "")) == "no", f"{target} is not one-shot"
            else:
                pytest.fail(f"{name} -> {target}: condition {condition!r} is not healthy/completed")


def test_airflow_components_wait_for_init_and_databases(
    airflow_services: dict[str, dict[str, Any]],
) -> None:
    for name, service in airflow_services.items():
        depends_on = service.get("depends_on") or {}
        assert depends_on.get("metadata-db", {}).get("condition") == "service_healthy", name
        if name != ONE_SHOT:
            assert depends_on.get(ONE_SHOT, {}).get("condition") == "service_completed_successfully", name
            assert depends_on.get("redis", {}).get("condition") == "service_healthy", name


# ----------------------------------------------------------------------------------------------
# docker-compose.yml: referenced files, secrets and variables
# ----------------------------------------------------------------------------------------------


def test_referenced_paths_exist(services: dict[str, dict[str, Any]]) -> None:
    base = COMPOSE_FILE.parent
    for name, service in services.items():
        build = service.get("build")
        if build is not None:
            context = base / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context} does not exist"
            if isinstance(build, dict):
                dockerfile = context / build.get("dockerfile", "Dockerfile")
                assert dockerfile.is_file(), f"{name}: dockerfile {dockerfile} does not exist"
        for entry in service.get("volumes", []):
            source, kind = _volume_source(entry)
            if kind == "bind" and source:
                assert "$" not in source, f"{name}: bind source {source!r} depends on a variable"
                path = Path(source).expanduser() if source.startswith("~") else base / source
                assert path.exists(), f"{name}: bind-mount source {source} does not exist"
        env_files = service.get("env_file") or []
        for item in [env_files] if isinstance(env_files, str | dict) else env_files:
            path_text = item["path"] if isinstance(item, dict) else item
            required = item.get("required", True) if isinstance(item, dict) else True
            if required:
                assert (base / path_text).is_file(), f"{name}: env_file {path_text} does not exist"


def test_no_literal_secrets(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in _env(service).items():
            if SECRET_KEY_NAME.search(key):
                match = INTERPOLATION.fullmatch(value)
                assert match, f"{name}: {key} must be a ${{...}} interpolation, not a literal"
                assert match["op"] in {":?", "?"}, f"{name}: {key} must be ${{VAR:?...}}, no default"
            password = urlsplit(_symbolic(value)).password if "://" in value else None
            if password:
                symbol = SYMBOL.fullmatch(password)
                assert symbol, f"{name}: {key} embeds a literal password"
                ops = {m["op"] for m in INTERPOLATION.finditer(value) if m["name"] == symbol[1]}
                assert ops and ops <= {":?", "?"}, f"{name}: {key}: password must be ${{VAR:?...}}"


def test_secret_variables_have_no_default(compose: dict[str, Any]) -> None:
    for match in _interpolations(compose):
        if SECRET_KEY_NAME.search(match["name"]):
            assert match["op"] in {":?", "?"}, f"${{{match['name']}}} is a secret and must not have a default"


def test_no_unescaped_dollar_signs(compose: dict[str, Any]) -> None:
    """A bare `$NAME` is interpolated by Compose on the host; container-side variables need `$$`."""
    for text in _strings(compose):
        remainder = INTERPOLATION.sub("", text.replace("$$", ""))
        assert "$" not in remainder, f"unescaped or malformed `$` in {text!r}"


def test_required_variables_are_in_env_example(compose: dict[str, Any]) -> None:
    example = _read_env_example()
    required = {m["name"] for m in _interpolations(compose) if m["op"] in {":?", "?"}}
    assert required, "expected required ${VAR:?...} interpolations for secrets"
    missing = sorted(required - set(example))
    assert not missing, f"docker/.env.example lacks required variables: {missing}"
    for name in sorted(required):
        if SECRET_KEY_NAME.search(name):
            assert PLACEHOLDER in example[name], f"docker/.env.example: {name} must hold a placeholder"


def test_all_variables_are_documented(compose: dict[str, Any]) -> None:
    example = _read_env_example()
    referenced = {m["name"] for m in _interpolations(compose)}
    missing = sorted(referenced - set(example))
    assert not missing, f"docker/.env.example does not list: {missing}"
    unused = sorted(set(example) - referenced)
    assert not unused, f"docker/.env.example lists variables the compose file does not use: {unused}"


def test_compose_interpolates_with_the_example_env(compose: dict[str, Any]) -> None:
    example = _read_env_example()
    for text in _strings(compose):
        resolved = _interpolate(text.replace("$$", ""), example)
        assert "${" not in resolved, f"could not resolve {text!r}"


def test_env_file_is_gitignored() -> None:
    assert GITIGNORE.is_file(), ".gitignore is missing"
    patterns = {line.strip() for line in GITIGNORE.read_text(encoding="utf-8").splitlines()}
    assert patterns & {".env", "/.env", ".env*", "*.env"}, ".env is not gitignored"


# ----------------------------------------------------------------------------------------------
# docker/Dockerfile and .dockerignore
# ----------------------------------------------------------------------------------------------


def test_dockerfile_copies_only_existing_paths() -> None:
    copies = 0
    for keyword, args in _dockerfile_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        flags, sources = _copy_parts(args)
        if any(flag.startswith("--from=") for flag in flags):
            continue
        assert sources, f"{keyword} {args}: no source"
        for source in sources:
            assert not source.startswith(("/", "..")), f"{keyword} source {source} escapes the context"
            assert (ROOT / source).exists(), f"Dockerfile {keyword}s {source}, which does not exist"
            copies += 1
    assert copies, "Dockerfile copies nothing from the build context"


def test_dockerfile_copies_the_project() -> None:
    copied: set[str] = set()
    for keyword, args in _dockerfile_instructions():
        flags, sources = _copy_parts(args) if keyword == "COPY" else ([], [])
        if not any(flag.startswith("--from=") for flag in flags):
            copied.update(source.rstrip("/") for source in sources)
    needed = {"pyproject.toml", "constraints.txt", "ingest", "dags", "dbt_project", "expectations"}
    assert needed <= copied, f"Dockerfile does not copy {sorted(needed - copied)}"


def test_dockerfile_base_user_and_entrypoint() -> None:
    instructions = _dockerfile_instructions()
    args = {
        key: value
        for keyword, text in instructions
        if keyword == "ARG" and "=" in text
        for key, value in [text.split("=", 1)]
    }
    bases = [_interpolate(text.split()[0], args) for keyword, text in instructions if keyword == "FROM"]
    assert bases, "Dockerfile has no FROM"
    assert bases[-1] == "python:3.11-slim-bookworm", f"final stage is based on {bases[-1]}"
    users = [text for keyword, text in instructions if keyword == "USER"]
    assert users, "Dockerfile never switches to a non-root user"
    assert users[-1].split(":")[0] in {"airflow", "50000"}, f"final USER is {users[-1]}"
    assert any("--uid 50000" in text and "airflow" in text for _, text in instructions), (
        "user airflow with uid 50000 is not created"
    )
    entrypoints = [text for keyword, text in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints, "Dockerfile has no ENTRYPOINT"
    assert _dockerfile_args(entrypoints[-1]) == ["airflow"]


def test_dockerfile_environment() -> None:
    env = _dockerfile_env()
    assert env.get("AIRFLOW_HOME") == "/opt/airflow"
    assert env.get("AIRFLOW__CORE__DAGS_FOLDER") == "/opt/d06/dags"
    assert env.get("D06_PROJECT_DIR") == "/opt/d06"


def test_dockerfile_installs_with_constraints_and_celery() -> None:
    runs = [text for keyword, text in _dockerfile_instructions() if keyword == "RUN"]
    installs = [text for text in runs if "pip install" in text and " ." in f"{text} "]
    assert installs, "Dockerfile never pip-installs the project"
    install = installs[-1]
    assert "-c constraints.txt" in install, "the project install must use -c constraints.txt"
    assert "--no-cache-dir" in install
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    celery_in_image = re.search(r"apache-airflow\[[^\]]*celery|apache-airflow-providers-celery", install)
    assert celery_in_image or "apache-airflow-providers-celery" in pyproject, (
        "CeleryExecutor needs the Celery provider in the image"
    )
    assert any("postgresql-client" in text for text in runs), "postgresql-client is not installed"


def test_image_has_the_healthcheck_tools(services: dict[str, dict[str, Any]]) -> None:
    runs = " ".join(text for keyword, text in _dockerfile_instructions() if keyword == "RUN")
    for name, service in services.items():
        if "build" in service and re.search(r"(^|\s)curl\s", _healthcheck_test(service)):
            assert re.search(r"apt-get install[^&]*\bcurl\b", runs), f"{name} health uses curl; not installed"


def test_dockerignore_at_context_root() -> None:
    assert DOCKERIGNORE.is_file(), ".dockerignore must sit at the build context root"
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".warehouse", ".git", "dbt_project/target", "dbt_project/logs", ".env"):
        assert needed in patterns, f".dockerignore does not exclude {needed}"
    assert patterns & {"__pycache__", "**/__pycache__"}, ".dockerignore does not exclude __pycache__"


# Settings the code reads that the stack does not set, each with its reason.
NOT_DEPLOYED = {
    "D06_DEBUG": "a developer switch: tracebacks on the console",
    "D06_BUILD_PERIODS": "set by the pipeline for its dbt subprocess",
    "D06_MARTS_BUILD_SCHEMA": "set by the pipeline for its dbt subprocess",
    "D06_OUTBOX": "the local SMTP sink of the demo and tests (the stack has Mailpit)",
    "D06_READER_PASSWORD": "read once by `d06 grant reader`, run by hand for each login",
    "D06_REGISTRY_DIR": "an alternative registry for benchmarks; the image has the packaged one",
    "D06_SMTP_STARTTLS": "the older spelling of D06_SMTP_TLS=starttls",
}


def _names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for folder in ("ingest", "dags"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"[\"'](D06_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def test_the_stack_passes_every_setting_the_code_reads(compose: dict[str, Any]) -> None:
    """Issue 12: every D06_* setting the pipeline reads reaches its containers (or is listed above)."""
    common = _env({"environment": compose["x-airflow-common"]["environment"]})
    portal_only = {n for n in _names_read_by_the_code() if n.startswith("D06_PORTAL_")}
    missing = sorted(_names_read_by_the_code() - portal_only - set(common) - set(NOT_DEPLOYED))
    assert not missing, f"read by the code, not set for the Airflow services: {missing}"
    portal = _env(compose["services"]["portal"])
    assert not sorted(portal_only - set(portal)), "the portal service lacks some D06_PORTAL_* settings"


def test_the_warehouse_is_initialised_once_before_anything_uses_it(services: dict[str, dict[str, Any]]) -> None:
    init = services["warehouse-init"]
    assert init.get("entrypoint") == ["d06"] and init.get("command") == ["db", "init"]
    assert str(init.get("restart")) == "no"
    assert _env(init).get("D06_BI_READER_PASSWORD", "").startswith("${D06_BI_READER_PASSWORD:?")
    for name, service in services.items():
        if (name.startswith(AIRFLOW_PREFIX) and name != ONE_SHOT) or name == "portal":
            condition = (service.get("depends_on") or {}).get("warehouse-init", {}).get("condition")
            assert condition == "service_completed_successfully", f"{name} does not wait for warehouse-init"
