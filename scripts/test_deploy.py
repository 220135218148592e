"""`make test-deploy`: the monthly load on a real Airflow deployment, with a worker killed mid-run.

`make test` runs the DAG in-process (`airflow dags test`), which never exercises the scheduler,
the executor, or retries between processes.  `make test-deploy` does, all on this machine, on
free ports, as root or not, and leaves nothing behind:

1. **Services**: Redis (Debian's `redis-server`, no persistence) as the Celery broker; a fresh
   Airflow metadata database on the project's PostgreSQL (also the Celery result backend); the
   scheduler, dag-processor, triggerer and api-server with the `CeleryExecutor`, an
   `AIRFLOW_HOME` in a temporary folder and the repository's `dags/`; two Celery workers
   (`airflow celery worker`, concurrency 1).  Airflow is initialised by `docker/airflow-init.sh`,
   as docker-compose.yml does (migration, the pool `d06_warehouse`, the FAB auth manager's admin
   login, whose password must then appear in no log).  Secrets (JWT, Fernet, admin password) are
   made at run time.  The scheduler's own calendar is off (`use_job_schedule = False`): only the
   backfill runs.
2. **Data**: a scratch warehouse database and data folder with three months of the demo inbox
   (2026-01 … 2026-03), `d06 db init`, and an SMTP sink for the report step.
3. **Backfill**: `d06_monthly_load` is unpaused and backfilled over the three months through
   the REST API (`POST /api/v2/backfills`, one run at a time); progress is polled from the API.
4. **A worker dies**: when a `stage` or `build` task is running `dbt build` on a worker, every
   process of that worker (Celery, the task supervisor and the task) is killed with SIGKILL,
   except dbt itself, which must then die by itself (`PR_SET_PDEATHSIG`, set in
   `ingest/transform/dbt_runner.py`): no dbt process of the killed worker may survive.  The
   scheduler notices the missing heartbeats after `[scheduler] task_instance_heartbeat_timeout`
   (30 s here, 300 s by default) and the task is retried, after `D06_RETRY_DELAY_SECONDS`
   (3 s), on the other worker.  Every run must end `success`.
5. **Same marts**: meanwhile the same inbox files are loaded in-process (the `ingest.pipeline`
   steps in order, as `d06 run` does) into another scratch database, with the backfill's run
   ids, and `ingest.warehouse.checksum.marts_checksum` must be equal table by table.  Nothing is
   excluded from the comparison: the one run-specific column of the marts,
   `fct_indicator_monthly.batch_id`, is the run id, hence the same run ids; receipt times come
   from the inbox's manifest; ids are drawn in the same order (the worker is killed in `stage`
   or `build`, which draw none, never in `ingest` or `audit`, whose retries would).
6. **Clean up**: every service is stopped (SIGTERM to its process group, then SIGKILL), also on
   failure, SIGTERM or Ctrl-C.  Each service runs in a session of its own and carries a marker in
   its environment: any process of those sessions, or with that marker, still alive afterwards
   fails the test (and is killed).  The scratch databases are dropped.

Service logs, and the task logs under `tasks/`, are kept in `.warehouse/test-deploy/`
(`--logs`, or `D06_DEPLOY_LOGS`); their tails are printed on failure.  Exit status 0 on success,
1 with a one-line reason otherwise (a failed run names its failed tasks and their exceptions).
The workers use Celery's default `prefork` pool, as production does; `D06_DEPLOY_CELERY_POOL`
(e.g. `solo`) chooses another.  About 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "d06_monthly_load"
MONTHS = ("2026-01", "2026-02", "2026-03")
BACKFILL_RANGE = ("2026-02-01T00:00:00Z", "2026-04-30T00:00:00Z")
"""Logical dates of the runs for MONTHS: the DAG runs on the 11th and loads the month before."""
KILLABLE_TASKS = ("stage", "build")
WORKERS = ("worker-a", "worker-b")
MARKER, ROLE = "D06_DEPLOY_TAG", "D06_DEPLOY_ROLE"
HEARTBEAT_TIMEOUT = 30
T0 = time.monotonic()


class DeployError(Exception):
    """An expected failure of the deployment test: reported in one line, without a traceback."""


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.0f}s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes ------------------------------------------------------------------------------


def _proc_text(pid: int, name: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _session_and_state(pid: int) -> tuple[int, str]:
    """The session id and state of a process (from /proc/PID/stat; the command may hold spaces)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[3]), fields[0]


def marked_processes(tag: str, sessions: set[int], role: str | None = None) -> dict[int, list[str]]:
    """Live processes of ``sessions`` (every service runs in its own), or whose environment carries
    ``MARKER=tag`` (and ``ROLE=role``), in case one left its session: pid → command line.  The
    environment alone is not enough: setproctitle (Celery, the api-server) overwrites it."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            session, state = _session_and_state(pid)
        except (OSError, IndexError, ValueError):
            continue
        environ = _proc_text(pid, "environ")
        marked = f"{MARKER}={tag}" in environ and (role is None or f"{ROLE}={role}" in environ)
        if state != "Z" and (session in sessions or marked):
            found[pid] = _proc_text(pid, "cmdline")
    return found


def is_dbt(cmdline: list[str]) -> bool:
    return any(Path(arg).name == "dbt" for arg in cmdline[:2])


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    killed: bool = False
    oneshot: bool = False


@dataclass
class Processes:
    """The processes this test starts, each in its own session, marked in their environment."""

    logs: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(6))
    services: dict[str, Service] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], env: dict[str, str], *, oneshot: bool = False) -> Service:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env={**env, MARKER: self.tag, ROLE: name},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.services[name] = service = Service(name, proc, log, oneshot=oneshot)
        return service

    def members(self, name: str | None = None) -> dict[int, list[str]]:
        """The live processes of service ``name``, or of every service: pid → command line."""
        chosen = [self.services[name]] if name else list(self.services.values())
        return marked_processes(self.tag, {s.proc.pid for s in chosen}, name)

    def check_alive(self) -> None:
        for s in self.services.values():
            if not (s.killed or s.oneshot) and s.proc.poll() is not None:
                raise DeployError(f"{s.name} exited unexpectedly (status {s.proc.returncode}); see {s.log}")

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL every process of worker ``name`` but its dbt; return the dbt pids."""
        procs = self.members(name)
        dbt = [pid for pid, cmd in procs.items() if is_dbt(cmd)]
        others = [pid for pid in procs if pid not in dbt]
        for sig in (signal.SIGSTOP, signal.SIGKILL):  # stopped first: nothing respawns in between
            for pid in others:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        self.services[name].killed = True
        try:
            self.services[name].proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise DeployError(f"{name} survived SIGKILL") from None
        return dbt

    def stop(self, s: Service, grace: float) -> list[str]:
        """SIGTERM to the service's process group; after ``grace`` seconds, SIGKILL to whatever of
        its session is left.  Return the commands that had to be killed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(s.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (s.proc.poll() is None or self.members(s.name)):
            time.sleep(0.3)
        stubborn = self.members(s.name)
        for pid in stubborn:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(s.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            s.proc.wait(timeout=5)
        return [" ".join(cmd)[:80] for cmd in stubborn.values()]

    def stop_all(self) -> dict[int, list[str]]:
        """Stop the services in the reverse order of their start (the workers before the
        api-server and the broker); return the processes still alive afterwards."""
        for s in reversed(list(self.services.values())):
            if s.proc.poll() is None or self.members(s.name):
                stubborn = self.stop(s, 30 if s.name in WORKERS else 15)
                if stubborn:
                    say(f"{s.name} did not stop on SIGTERM; killed: {'; '.join(stubborn)}")
        time.sleep(1)
        return self.members()

    def tails(self, lines: int = 25) -> str:
        out = []
        for s in self.services.values():
            if s.oneshot and s.proc.poll() == 0:
                continue
            text = s.log.read_text(errors="replace").splitlines()[-lines:] if s.log.exists() else []
            out.append(f"----- {s.name} ({s.log}) -----\n" + "\n".join(text))
        return "\n".join(out)


@contextlib.contextmanager
def managed_processes(logs: Path) -> Iterator[Processes]:
    """Processes stopped on the way out, whatever happens; leftovers fail the test."""
    procs = Processes(logs)
    failed = False
    try:
        yield procs
    except BaseException:
        failed = True
        raise
    finally:
        if failed and procs.services:
            print(procs.tails(), file=sys.stderr)
        say("stopping every service")
        leftovers = procs.stop_all()
        if leftovers and not failed:
            names = "; ".join(f"{pid}: {' '.join(cmd)[:80]}" for pid, cmd in leftovers.items())
            raise DeployError(f"processes survive the shutdown: {names}")


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    redis: int = field(default_factory=free_port)
    api: int = field(default_factory=free_port)
    triggerer_logs: int = field(default_factory=free_port)


def base_env() -> dict[str, str]:
    """This process's environment without any Airflow or warehouse setting of the local stack."""
    dropped = ("AIRFLOW_", "D06_", "DBT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(D06_PROJECT_DIR=str(REPO), PYTHONUNBUFFERED="1")
    return env


def airflow_env(work: Path, logs: Path, meta_dsn: str, ports: Ports) -> dict[str, str]:
    from cryptography.fernet import Fernet

    sqlalchemy = meta_dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    api = f"http://127.0.0.1:{ports.api}"
    settings = {
        "CORE__EXECUTOR": "CeleryExecutor",
        "CORE__DAGS_FOLDER": str(REPO / "dags"),
        "CORE__LOAD_EXAMPLES": "False",
        "CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "DATABASE__SQL_ALCHEMY_CONN": sqlalchemy,
        "CELERY__BROKER_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "CELERY__RESULT_BACKEND": f"db+{sqlalchemy}",
        "CELERY__WORKER_CONCURRENCY": "1",
        "CELERY__POOL": os.environ.get("D06_DEPLOY_CELERY_POOL") or "prefork",  # prefork: as in production
        "API__HOST": "127.0.0.1",
        "API__PORT": str(ports.api),
        "API__BASE_URL": api,
        "API__SECRET_KEY": secrets.token_urlsafe(32),
        "API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "SCHEDULER__USE_JOB_SCHEDULE": "False",
        "SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "LOGGING__BASE_LOG_FOLDER": str(logs / "tasks"),
        "LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports.triggerer_logs),
    }
    return {"AIRFLOW_HOME": str(work / "airflow"), **{f"AIRFLOW__{k}": v for k, v in settings.items()}}


def warehouse_env(dsn: str, data: Path, smtp_port: int, dbt_dir: Path) -> dict[str, str]:
    return {
        "WAREHOUSE_DSN": dsn,
        "D06_DATA_DIR": str(data),
        "D06_SMTP_HOST": "127.0.0.1",
        "D06_SMTP_PORT": str(smtp_port),
        "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{smtp_port}?disable_ssl=true&disable_tls=true",
        "D06_RETRY_DELAY_SECONDS": "3",
        "DBT_TARGET_PATH": str(dbt_dir / "target"),
        "DBT_LOG_PATH": str(dbt_dir / "logs"),
    }


# --- the REST API ---------------------------------------------------------------------------


@dataclass
class Api:
    base: str
    password: str
    token: str = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise DeployError(f"{method} {path}: HTTP {exc.code}: {detail}") from None

    def login(self) -> None:
        self.token = ""
        body = {"username": "deploy", "password": self.password}
        self.token = self.call("POST", "/auth/token", body)["access_token"]

    def runs(self) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=logical_date&limit=100")["dag_runs"])

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return list(self.call("GET", path)["task_instances"])


def wait_for(what: str, check: Any, timeout: float, procs: Processes, every: float = 2.0) -> Any:
    """Call ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            result = check()
        except (OSError, DeployError, KeyError) as exc:
            result, last = None, f" (last: {exc})"
        if result:
            return result
        time.sleep(every)
    raise DeployError(f"timed out after {timeout:.0f}s waiting for {what}{last}")


# --- the scenario ---------------------------------------------------------------------------


def prepare_data(data: Path, env: dict[str, str], procs: Processes) -> None:
    """Three months of the demo inbox and ``d06 db init``, in the deployment's data folder."""
    for period in MONTHS:
        run_step(procs, f"demo-inbox-{period}", [str(BIN / "d06"), "demo-inbox", "--period", period], env)
    run_step(procs, "db-init", [str(BIN / "d06"), "db", "init"], env)


def run_step(procs: Processes, name: str, cmd: list[str], env: dict[str, str], timeout: float = 300) -> None:
    """Run a one-off command to completion, its output in the logs folder."""
    service = procs.start(name, cmd, env, oneshot=True)
    try:
        status = service.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeployError(f"{name} did not finish within {timeout:.0f}s; see {service.log}") from None
    if status != 0:
        tail = "\n".join(service.log.read_text(errors="replace").splitlines()[-20:])
        raise DeployError(f"{name} failed (exit {status}); see {service.log}:\n{tail}")


def start_services(procs: Processes, env: dict[str, str], ports: Ports, work: Path, *, admin_password: str) -> None:
    redis = shutil.which("redis-server")
    if not redis:
        raise DeployError("redis-server is not installed (make test-deploy installs it with apt-get)")
    (work / "redis").mkdir()
    redis_args = ["--port", str(ports.redis), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    procs.start("redis", [redis, *redis_args, "--dir", str(work / "redis")], env)
    say("initialising Airflow as docker-compose.yml does (docker/airflow-init.sh)")
    init_env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "AIRFLOW_ADMIN_USER": "deploy"}
    init_env["AIRFLOW_ADMIN_PASSWORD"] = admin_password  # only the init step sees it
    run_step(procs, "airflow-init", ["bash", str(REPO / "docker" / "airflow-init.sh")], init_env)
    airflow = str(BIN / "airflow")
    procs.start("api-server", [airflow, "api-server", "--port", str(ports.api), "--workers", "1"], env)
    for name in ("scheduler", "dag-processor", "triggerer"):
        procs.start(name, [airflow, name], env)
    for name in WORKERS:
        worker_env = {**env, "DBT_TARGET_PATH": f"{env['DBT_TARGET_PATH']}-{name}"}
        cmd = [airflow, "celery", "worker", "--celery-hostname", f"{name}-{procs.tag}@%h", "--concurrency", "1"]
        procs.start(name, [*cmd, "--skip-serve-logs", "--without-mingle", "--without-gossip"], worker_env)
    say(
        f"services started: redis :{ports.redis}, api-server :{ports.api}, scheduler, dag-processor, "
        f"triggerer, {' and '.join(WORKERS)}"
    )


def wait_until_ready(api: Api, procs: Processes) -> None:
    def healthy() -> bool:
        health = api.call("GET", "/api/v2/monitor/health")
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all(health.get(p, {}).get("status") == "healthy" for p in parts)

    wait_for("the api-server, scheduler, triggerer and dag-processor to be healthy", healthy, 180, procs)
    api.login()
    for name in WORKERS:
        log = procs.services[name].log
        wait_for(f"{name} to be ready", lambda log=log: " ready." in log.read_text(errors="replace"), 120, procs)
    wait_for(f"the dag-processor to parse {DAG_ID}", lambda: api.call("GET", f"/api/v2/dags/{DAG_ID}"), 180, procs)
    say(f"deployment ready; {DAG_ID} parsed")


def start_backfill(api: Api, procs: Processes) -> list[dict[str, Any]]:
    """Unpause the DAG, backfill the three months one run at a time; return the runs, in order."""
    api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    body = {"dag_id": DAG_ID, "from_date": BACKFILL_RANGE[0], "to_date": BACKFILL_RANGE[1], "max_active_runs": 1}
    backfill = api.call("POST", "/api/v2/backfills", body)
    runs = wait_for("the backfill's runs", lambda: len(api.runs()) >= len(MONTHS) and api.runs(), 60, procs, 1)
    periods = [period_of(r) for r in runs]
    if periods != list(MONTHS):
        raise DeployError(f"the backfill made runs for {periods}, expected {list(MONTHS)}")
    say(f"backfill {backfill['id']} created: " + ", ".join(f"{r['dag_run_id']} ({period_of(r)})" for r in runs))
    return runs


def period_of(run: dict[str, Any]) -> str:
    """The month a run loads, as the DAG's resolve_period task chooses it (no conf, no assets)."""
    from ingest.pipeline import choose_period

    return choose_period(None, [], dt.datetime.fromisoformat(run["logical_date"]).date())


@dataclass
class Watch:
    """What the watcher saw: the last states printed, and the task it interrupted."""

    seen: dict[str, str] = field(default_factory=dict)
    killed: dict[str, Any] = field(default_factory=dict)


def watch_backfill(api: Api, procs: Processes, runs: list[dict[str, Any]], timeout: float) -> Watch:
    """Poll the runs until all are done, killing a worker once while it runs dbt."""
    watch, deadline = Watch(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        states = {r["dag_run_id"]: r for r in api.runs()}
        for run in runs:
            report_progress(api, watch, states[run["dag_run_id"]])
        if not watch.killed:
            maybe_kill_worker(api, procs, watch, states)
        done = [states[r["dag_run_id"]]["state"] for r in runs]
        if "failed" in done or all(state == "success" for state in done):
            return watch
        time.sleep(1)
    raise DeployError(f"the backfill did not finish within {timeout:.0f}s")


def report_progress(api: Api, watch: Watch, run: dict[str, Any]) -> None:
    line = run["state"]
    if run["state"] == "running":
        tis = api.task_instances(run["dag_run_id"])
        active = [t for t in tis if t["state"] in ("queued", "running", "up_for_retry", "scheduled")]
        line += ": " + (", ".join(f"{t['task_id']} {t['state']} (try {t['try_number']})" for t in active) or "…")
    if watch.seen.get(run["dag_run_id"]) != line:
        watch.seen[run["dag_run_id"]] = line
        say(f"{period_of(run)} {line}")


def maybe_kill_worker(api: Api, procs: Processes, watch: Watch, states: dict[str, Any]) -> None:
    """When a stage or build task runs dbt on a worker, kill that worker (all but dbt) with SIGKILL."""
    running = [
        (run_id, t)
        for run_id, r in states.items()
        if r["state"] == "running"
        for t in api.task_instances(run_id)
        if t["task_id"] in KILLABLE_TASKS and t["state"] == "running"
    ]
    dbt_by_worker = {w: [p for p, c in procs.members(w).items() if is_dbt(c)] for w in WORKERS}
    victim = next((w for w, pids in dbt_by_worker.items() if pids), None)
    if not running or victim is None:
        return
    run_id, ti = running[0]
    dbt_pids = procs.kill_worker(victim)
    watch.killed = {"worker": victim, "run_id": run_id, "task_id": ti["task_id"], "dbt_pids": dbt_pids}
    say(f"killed {victim} (SIGKILL) while it ran {ti['task_id']} of {run_id}; its dbt pids {dbt_pids}")
    check_no_orphan(procs, victim)


def check_no_orphan(procs: Processes, worker: str) -> None:
    """No process of the killed worker survives, dbt included (it dies with its parent)."""
    deadline = time.monotonic() + 10
    while (left := procs.members(worker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        names = "; ".join(f"{pid}: {' '.join(cmd)[:100]}" for pid, cmd in left.items())
        raise DeployError(f"processes of the killed {worker} survive it: {names}")
    say(f"no process of {worker} survives it (dbt died with its parent)")


def check_runs(api: Api, runs: list[dict[str, Any]], watch: Watch, logs: Path) -> dict[str, int]:
    """Every run succeeded, and the interrupted task did through a retry; return retries per run."""
    tries = {}
    for run in runs:
        state = next(r for r in api.runs() if r["dag_run_id"] == run["dag_run_id"])["state"]
        tis = api.task_instances(run["dag_run_id"])
        if state != "success":
            failed = [t["task_id"] for t in tis if t["state"] == "failed"]
            errors = "; ".join(f"{t}: {task_error(logs, run['dag_run_id'], t)}" for t in failed)
            raise DeployError(f"run {run['dag_run_id']} ended {state}: {errors or 'no task failed'}")
        tries[run["dag_run_id"]] = sum(int(t["try_number"]) - 1 for t in tis)
    if not watch.killed:
        raise DeployError("no stage or build task was seen running dbt: no worker was killed")
    killed = next(t for t in api.task_instances(watch.killed["run_id"]) if t["task_id"] == watch.killed["task_id"])
    if int(killed["try_number"]) < 2:
        raise DeployError(f"{watch.killed['task_id']} of {watch.killed['run_id']} was not retried")
    return tries


def task_error(logs: Path, run_id: str, task_id: str) -> str:
    """The exception of a task's last attempt, from its log (JSON lines), and the log's path."""
    attempts = sorted((logs / "tasks" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}").glob("*.log"))
    if not attempts:
        return "no task log"
    for line in reversed(attempts[-1].read_text(errors="replace").splitlines()):
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            detail = json.loads(line)["error_detail"][0]
            return f"{detail['exc_type']}: {detail['exc_value']} ({attempts[-1]})"
    return f"see {attempts[-1]}"


# --- the in-process reference ---------------------------------------------------------------


def check_no_password_in_logs(logs: Path, password: str) -> None:
    """The admin password is stored hashed and printed nowhere (SimpleAuthManager printed it)."""
    leaked = [p for p in logs.rglob("*") if p.is_file() and password in p.read_text(errors="replace")]
    if leaked:
        raise DeployError(f"the admin password appears in {', '.join(str(p) for p in leaked)}")
    say("admin login: FAB auth manager, password hashed, in no log")


def reference_main(pairs: list[str]) -> int:
    """Run the monthly load in-process for each ``RUN_ID=PERIOD``, in order (``d06 run``'s steps)."""
    from ingest import pipeline as p

    for pair in pairs:
        run_id, period = pair.rsplit("=", 1)
        p.ingest_period(period, run_id=run_id)
        p.stage_models(run_id)
        p.audit(period, run_id=run_id)
        p.build_publication(run_id)
        p.quality_gate(period, run_id=run_id)
        p.publish(run_id)
        report = p.render_report(period, run_id=run_id)
        p.send_report(period, run_id=run_id, report_path=report)
        summary = p.finish_run(run_id)
        print(p.summary_line(summary), flush=True)
        if summary["status"] != "success":
            return 1
    return 0


def start_reference(procs: Processes, env: dict[str, str], runs: list[dict[str, Any]]) -> Service:
    pairs = [f"{r['dag_run_id']}={period_of(r)}" for r in runs]
    say("in-process reference load of the same inbox started (same run ids, own database)")
    return procs.start("reference", [sys.executable, __file__, "--reference", *pairs], env, oneshot=True)


def wait_reference(service: Service, timeout: float) -> None:
    try:
        status = service.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeployError(f"the in-process reference load did not finish within {timeout:.0f}s") from None
    if status != 0:
        tail = "\n".join(service.log.read_text(errors="replace").splitlines()[-20:])
        raise DeployError(f"the in-process reference load failed (exit {status}):\n{tail}")


def compare_marts(deploy_dsn: str, reference_dsn: str) -> int:
    import psycopg

    from ingest.warehouse.checksum import marts_checksum

    with psycopg.connect(deploy_dsn) as a, psycopg.connect(reference_dsn) as b:
        deployed, reference = marts_checksum(a), marts_checksum(b)
    if not deployed:
        raise DeployError("the deployment's warehouse has no marts")
    differ = sorted(t for t in deployed.keys() | reference.keys() if deployed.get(t) != reference.get(t))
    if differ:
        raise DeployError(f"marts differ from the in-process load: {', '.join(differ)}")
    return len(deployed)


@dataclass(frozen=True)
class Scratch:
    """The scratch folders and databases of one test."""

    work: Path
    logs: Path
    meta: str
    deploy: str
    reference: str


def scenario(s: Scratch, procs: Processes, timeout: float) -> None:
    from ingest.reporting.smtp_sink import SmtpSink

    ports = Ports()
    password = secrets.token_urlsafe(24)
    with SmtpSink(s.work / "outbox") as sink:
        deploy_data, ref_data = s.work / "deploy-data", s.work / "reference-data"
        env = {**base_env(), **warehouse_env(s.deploy, deploy_data, sink.port, s.work / "dbt-deploy")}
        env |= airflow_env(s.work, s.logs, s.meta, ports)
        prepare_data(deploy_data, env, procs)
        shutil.copytree(deploy_data / "inbox", ref_data / "inbox")
        ref_env = {**base_env(), **warehouse_env(s.reference, ref_data, sink.port, s.work / "dbt-reference")}
        run_step(procs, "reference-db-init", [str(BIN / "d06"), "db", "init"], ref_env)
        say(f"warehouse data ready: {', '.join(MONTHS)} of the demo inbox in two scratch databases")
        start_services(procs, env, ports, s.work, admin_password=password)
        api = Api(f"http://127.0.0.1:{ports.api}", password)
        wait_until_ready(api, procs)
        runs = start_backfill(api, procs)
        reference = start_reference(procs, ref_env, runs)
        watch = watch_backfill(api, procs, runs, timeout)
        tries = check_runs(api, runs, watch, s.logs)
        wait_reference(reference, timeout)
        tables = compare_marts(s.deploy, s.reference)
    check_no_password_in_logs(s.logs, password)
    say(f"all {len(runs)} runs succeeded; retries per run: {tries}")
    say(f"marts checksum equal to the in-process load's for all {tables} tables")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=900, help="seconds the backfill may take")
    parser.add_argument(
        "--logs", type=Path, default=Path(os.environ.get("D06_DEPLOY_LOGS", REPO / ".warehouse/test-deploy"))
    )
    parser.add_argument("--reference", nargs="+", metavar="RUN_ID=PERIOD", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference:
        return reference_main(args.reference)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(args.logs, args.timeout)
    except DeployError as exc:
        print(f"test-deploy FAILED after {time.monotonic() - T0:.0f}s: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("test-deploy interrupted", file=sys.stderr)
        return 130
    say(f"test-deploy passed in {time.monotonic() - T0:.0f}s; logs in {args.logs}")
    return 0


def run(logs: Path, timeout: float) -> None:
    from ingest.warehouse.db import scratch_database

    server = os.environ.get("WAREHOUSE_DSN")
    if not server:
        raise DeployError("WAREHOUSE_DSN is not set: run `make test-deploy`, which starts PostgreSQL")
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="d06-deploy-")))
        dbs = [stack.enter_context(scratch_database(server, f"d06_deploy_{n}")) for n in ("meta", "wh", "ref")]
        procs = stack.enter_context(managed_processes(logs))
        scenario(Scratch(work, logs, *dbs), procs, timeout)


if __name__ == "__main__":
    sys.exit(main())
