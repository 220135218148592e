"""The `d06` command: everything a data engineer runs by hand, and what the DAG runs too."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ingest import config


def _period(text: str) -> str:
    from ingest.pipeline import validate_period

    try:
        return validate_period(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_db_init(args: argparse.Namespace) -> int:
    if args.action != "init":
        return cmd_db_backup(args)
    from ingest.pipeline import prepare_warehouse

    counts = prepare_warehouse()
    print("warehouse ready; registry rows: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    from ingest.warehouse.backup import BackupError, backup, restore

    if not args.file:
        print("Cần --file / --file is required", file=sys.stderr)
        return 2
    try:
        if args.action == "backup":
            out = backup(Path(args.file))
            print(f"Đã sao lưu kho dữ liệu vào {out} / warehouse backed up to {out} ({out.stat().st_size:,} bytes)")
        else:
            restore(Path(args.file), force=args.force)
            print(f"Đã khôi phục kho dữ liệu từ {args.file} / warehouse restored from {args.file}")
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _received_paths(args: argparse.Namespace) -> list[Path] | None:
    from ingest.landing.adapters import is_received_file

    paths: list[Path] = []
    for p in map(Path, args.paths):
        if p.is_dir():
            paths += sorted(x for x in p.rglob("*") if is_received_file(x))
        elif p.is_file():
            paths.append(p)
        else:
            print(f"error: {p}: no such file or directory", file=sys.stderr)
            return None
    return paths


def _received_at(text: str | None) -> dt.datetime | None:
    """``--received-at`` as a timezone-aware time (none given: None); raises ValueError with a
    one-line message in Vietnamese and English."""
    from ingest.landing.receipt import ReceiptTimeError, parse_receipt_time

    if text is None:
        return None
    try:
        return parse_receipt_time(text)
    except ReceiptTimeError:
        raise ValueError(
            f"--received-at {text!r}: không phải thời điểm ISO 8601 / not an ISO 8601 time "
            "(ví dụ / e.g. 2026-04-10T16:30:00+07:00; không có múi giờ là giờ Việt Nam / no offset: Asia/Ho_Chi_Minh)"
        ) from None


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.landing.adapters import LandingContext
    from ingest.landing.land import land_paths
    from ingest.pipeline import prepare_warehouse
    from ingest.registry import load_registry
    from ingest.warehouse.db import connect

    try:
        received_at = _received_at(args.received_at)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prepare_warehouse()
    paths = _received_paths(args)
    if paths is None:
        return 2
    batch = args.batch_id or f"cli-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    ctx = LandingContext(load_registry(), dt.date.today(), args.period)
    print(f"landing {len(paths)} files (batch {batch})", file=sys.stderr)
    with connect() as conn:
        outcomes = land_paths(conn, paths, batch_id=batch, ctx=ctx, received_at=received_at)
    if args.json:
        print(json.dumps({"batch_id": batch, "files": [o.as_dict() for o in outcomes]}, ensure_ascii=False))
    else:
        for i, o in enumerate(outcomes, 1):
            print(
                f"[{i}/{len(outcomes)}] {o.file_name}: {o.status}, {o.rows_loaded} loaded, "
                f"{o.rows_quarantined} quarantined"
                + (f", {o.warnings} warnings" if o.warnings else "")
                + (f" - {o.error}" if o.error else ""),
                file=sys.stderr,
            )
    counts = {s: sum(o.status == s for o in outcomes) for s in ("loaded", "duplicate", "rejected", "failed")}
    print(
        f"{len(outcomes)} files: "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f"; rows read {sum(o.rows_read for o in outcomes)} = loaded {sum(o.rows_loaded for o in outcomes)}"
        f" + quarantined {sum(o.rows_quarantined for o in outcomes)}",
        file=sys.stderr,
    )
    return 1 if counts["rejected"] or counts["failed"] else 0


def cmd_dbt(args: argparse.Namespace) -> int:
    from ingest.transform.dbt_runner import DbtError, run_dbt

    try:
        print(run_dbt(args.dbt_args).output)
    except DbtError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The whole monthly load without Airflow (same steps as the DAG).

    A failed step stops the run; the run always ends success or failed with a one-line summary,
    and the exit status is 0 only for success."""
    from ingest import pipeline

    run_id = args.run_id or f"manual__{args.period}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    try:
        print(json.dumps(pipeline.ingest_period(args.period, run_id=run_id)))
        print(json.dumps(pipeline.stage_models(run_id, full_refresh=args.full_refresh)))
        print(json.dumps(pipeline.audit(args.period, run_id=run_id), ensure_ascii=False))
        print(json.dumps(pipeline.build_publication(run_id, full_refresh=args.full_refresh)))
        print(json.dumps(pipeline.quality_gate(args.period, run_id=run_id)))
        print(json.dumps(pipeline.publish(run_id)))
        report = pipeline.render_report(args.period, run_id=run_id)
        print(json.dumps(pipeline.send_report(args.period, run_id=run_id, report_path=report)))
    except Exception as exc:  # recorded by the step; the user gets the summary, not a traceback
        logging.getLogger("ingest.cli").debug("run step failed", exc_info=True)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    summary = pipeline.finish_run(run_id)
    print(pipeline.summary_line(summary), file=sys.stderr)
    return 0 if summary["status"] == "success" else 1


def cmd_demo_inbox(args: argparse.Namespace) -> int:
    from ingest.demo import write_demo_inbox

    n = write_demo_inbox(config.inbox_dir(), args.period, args.province)
    print(f"demo inbox: {n} submissions for {args.period} in {config.inbox_dir() / args.period}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write a synthetic inbox for a province and its ground truth of injected faults."""
    import time

    from ingest.synth import synthesise

    out = Path(args.out)
    started = time.perf_counter()
    try:
        result = synthesise(
            out,
            province=args.province,
            period=args.period,
            months=args.months,
            seed=args.seed,
            faults=args.faults,
            extracts=args.extracts,
            bhxh_participants=args.bhxh_participants,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folders = ", ".join(str(out / p) for p in result.periods)
    print(f"synth: {len(result.files)} submissions of {args.province} in {folders}")
    if result.extracts:
        # counts and paths only: the extracts themselves hold (fake) personal data
        rows = result.extract_rows
        print(
            f"synth: {len(result.extracts)} source extracts ({rows.get('civil_registry', 0)} civil-registry rows, "
            f"{rows.get('bhxh', 0)} BHXH rows) in {folders}, {time.perf_counter() - started:.1f} s"
        )
    print(f"synth: {len(result.faults)} injected faults in {result.ground_truth}")
    return 0


def cmd_smtp_sink(args: argparse.Namespace) -> int:
    from ingest.reporting import smtp_sink

    state = config.data_dir()
    port = args.port or config.smtp_sink_port()
    if args.action == "start":
        port = smtp_sink.start_daemon(state, config.outbox_dir(), port)
        print(f"smtp sink: 127.0.0.1:{port}, writing to {config.outbox_dir()}")
    elif args.action == "stop":
        smtp_sink.stop_daemon(state)
    else:
        smtp_sink.serve_forever(config.outbox_dir(), port)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    import calendar

    from ingest.registry import load_registry
    from ingest.submissions.template import write_template

    registry = load_registry()
    if args.unit:
        if args.unit not in registry.units:
            print(f"error: unknown unit {args.unit!r}", file=sys.stderr)
            return 2
        units = [args.unit]
        outputs = [Path(args.output or f"{args.unit}_{args.period}.xlsx")]
    else:
        y, m = map(int, args.period.split("-"))
        last_day = dt.date(y, m, calendar.monthrange(y, m)[1])
        units = [u.code for u in registry.reporting_units(last_day, args.province)]
        folder = Path(args.output or f"templates_{args.period}")
        folder.mkdir(parents=True, exist_ok=True)
        outputs = [folder / f"{code}_{args.period}.xlsx" for code in units]
    for code, out in zip(units, outputs, strict=True):
        with out.open("wb") as fp:
            try:
                n = write_template(registry, code, args.period, fp)
            except ValueError as exc:
                out.unlink(missing_ok=True)
                print(f"error: {exc}", file=sys.stderr)
                return 2
        print(f"{out}: {n} rows for {registry.units[code].name_vi}, {args.period}")
    return 0


def cmd_period(args: argparse.Namespace) -> int:
    from ingest.pipeline import prepare_warehouse
    from ingest.submissions import periods
    from ingest.warehouse.db import connect

    prepare_warehouse()
    with connect() as conn:
        if args.action == "close":
            done = periods.close_period(conn, args.period, args.by)
            print(f"{args.period}: {'closed' if done else 'already closed'}")
        elif args.action == "reopen":
            done = periods.reopen_period(conn, args.period)
            print(f"{args.period}: {'reopened' if done else 'was not closed'}; run `d06 dbt build` to apply")
        else:
            for period, closed_at, closed_by in periods.closed_periods(conn):
                held = periods.held_files(conn, period)
                print(f"{period}  closed {closed_at:%Y-%m-%d %H:%M} by {closed_by}; {len(held)} file(s) held")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from ingest.landing.replay import replay_period
    from ingest.pipeline import build_models
    from ingest.warehouse.db import connect

    with connect() as conn:
        outcomes = replay_period(conn, args.period)
    print(f"{args.period}: replayed {len(outcomes)} files from the archive")
    if not args.no_build:  # the files keep their ids: every month is rebuilt, not only new files' months
        print(json.dumps(build_models(full_refresh=True)))
    return 0


def _reader_password() -> str:
    """The new login's password: D06_READER_PASSWORD, else one line of standard input (never an argument)."""
    password = os.environ.get("D06_READER_PASSWORD")
    if password is None:
        import getpass

        password = getpass.getpass("Mật khẩu / password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise config.ConfigError(
            "Mật khẩu phải có ít nhất 12 ký tự / the password must have at least 12 characters "
            "(D06_READER_PASSWORD or standard input)"
        )
    return password


def cmd_grant(args: argparse.Namespace) -> int:
    from ingest.warehouse.access import GrantError, grant_reader
    from ingest.warehouse.db import connect

    scope, code = ("unit", args.unit) if args.unit else ("province", args.province)
    try:
        with connect() as conn:
            grant_reader(conn, args.login, scope, code, _reader_password())
    except GrantError as exc:
        print(exc, file=sys.stderr)
        return 2
    what = f"đơn vị {code}" if scope == "unit" else f"tỉnh {code}"
    print(f"Đã cấp quyền đọc dữ liệu của {what} cho tài khoản {args.login} / {args.login} reads {scope} {code}.")
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    from ingest.reminders import send_reminders

    day = dt.date.fromisoformat(args.day) if args.day else dt.date.today()
    summary = send_reminders(day)
    print(
        f"Nhắc nộp báo cáo kỳ {summary['period']}: {summary['sent']} thư đã gửi, "
        f"{summary['already_sent']} đơn vị đã được nhắc hôm nay, {summary['due']} đơn vị chưa nộp."
    )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from ingest.summary import print_summary

    return print_summary(args.period)


def _violations_table(found: list[Any], titles: dict[str, str]) -> str:
    """The findings as an aligned text table, the check's Vietnamese title last."""
    from ingest.quality.violations import values_text

    head = ["id", "severity", "status", "check", "unit", "indicator", "service", "values", "title_vi"]
    rows = [
        [
            str(v.violation_id),
            v.severity,
            v.status,
            v.check_code,
            v.unit_code,
            v.indicator_code or "-",
            v.service_code or "-",
            values_text(v.values),
            titles.get(v.check_code, v.check_code),
        ]
        for v in found
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in [head, *rows])
    return "\n".join(lines)


def cmd_violations(args: argparse.Namespace) -> int:
    """List a period's findings of the quality gate, or explain or accept one (exit 2 when refused)."""
    from ingest.quality import violations
    from ingest.registry import load_registry
    from ingest.warehouse.db import connect

    if args.action is None and args.period is None:
        print("error: violations needs --period YYYY-MM (or: explain|accept ID)", file=sys.stderr)
        return 2
    registry = load_registry()
    try:
        with connect() as conn:
            if args.action is not None:
                change = violations.explain if args.action == "explain" else violations.accept
                v = change(conn, args.id, args.by, args.comment)
                print(f"violation {v.violation_id}: {v.status} by {v.status_by} at {v.status_at:%Y-%m-%d %H:%M %Z}")
                return 0
            found = violations.list_violations(
                conn,
                registry,
                period=args.period,
                unit=args.unit,
                status=args.status,
                check=args.check,
                severity=args.severity,
            )
    except violations.ViolationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for v in found:
            print(json.dumps(v.as_dict(), ensure_ascii=False))
    else:
        print(_violations_table(found, {c.code: c.title_vi for c in registry.checks.values()}))
        print(f"{len(found)} violation(s) in {args.period}", file=sys.stderr)
    return 0


def cmd_portal(args: argparse.Namespace) -> int:
    """The unit submission portal: serve it, start or stop it in the background, or make a sign-in link."""
    from ingest.portal import server

    state = config.data_dir()
    port = args.port or config.portal_port()
    if args.action == "serve":
        from ingest.pipeline import prepare_warehouse

        prepare_warehouse()
        server.serve(args.host or os.environ.get("D06_PORTAL_HOST") or "127.0.0.1", port)
    elif args.action == "start":
        port = server.start_daemon(state, args.host or os.environ.get("D06_PORTAL_HOST") or "127.0.0.1", port)
        print(f"portal: {config.portal_url()} (port {port}; log {state / server.LOG_FILE})")
    elif args.action == "stop":
        print("portal: stopped" if server.stop_daemon(state) else "portal: was not running")
    else:
        return _portal_link(args.unit, args.minutes)
    return 0


def _portal_link(unit_code: str | None, minutes: int | None) -> int:
    from ingest.pipeline import prepare_warehouse
    from ingest.portal.auth import today
    from ingest.portal.settings import PortalSettings
    from ingest.portal.signin import new_link
    from ingest.registry import load_registry

    unit = load_registry().units.get(unit_code or "")
    if unit is None or not unit.valid_on(today()):
        print(f"error: {unit_code!r} is not a unit of the registry valid today (--unit CODE)", file=sys.stderr)
        return 2
    prepare_warehouse()
    minutes = minutes or PortalSettings.from_env().link_minutes
    print(f"sign-in link for {unit.code}, valid {minutes} min, once: {new_link(unit, minutes)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="d06", description="Đề án 06 monitoring warehouse")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_loading, _add_writing, _add_operating, _add_reading, _add_portal):
        add(sub)
    return parser


def _add_loading(sub: Any) -> None:
    """Commands that load: the warehouse, files, dbt, the whole monthly run."""
    p = sub.add_parser("db", help="warehouse administration: init, backup, restore (pg_dump / pg_restore)")
    p.add_argument("action", choices=["init", "backup", "restore"])
    p.add_argument("--file", help="backup: the file to write; restore: the file to read")
    p.add_argument("--force", action="store_true", help="restore over a warehouse that already holds data")
    p.set_defaults(func=cmd_db_init)

    p = sub.add_parser("ingest", help="load submission files (CSV, XLSX, JSON) or folders of them")
    p.add_argument("paths", nargs="+")
    p.add_argument("--period", type=_period, help="the month the files must report (YYYY-MM)")
    p.add_argument("--batch-id")
    p.add_argument(
        "--received-at",
        metavar="ISO8601",
        help="when the files were truly received (archived files), e.g. 2026-04-10T16:30+07:00; "
        "no offset means Asia/Ho_Chi_Minh; default: the folder's received.csv, else now",
    )
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("dbt", help="run dbt in dbt_project/ with the warehouse settings")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("run", help="run the whole monthly load for a period without Airflow")
    p.add_argument("--period", type=_period, required=True)
    p.add_argument("--run-id")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every month, not only those that changed (after changing a model by hand)",
    )
    p.set_defaults(func=cmd_run)


def _add_writing(sub: Any) -> None:
    """Commands that write files: demo and synthetic inboxes, templates, the local mail sink."""
    p = sub.add_parser("demo-inbox", help="write the demo province's submissions for a period")
    p.add_argument("--period", type=_period, required=True)
    p.add_argument("--province", action="append", help="province code (repeatable); default: every province")
    p.set_defaults(func=cmd_demo_inbox)

    p = sub.add_parser("synth", help="write a synthetic inbox of a province, with known faults (ground_truth.jsonl)")
    p.add_argument("--province", required=True, help="province code, e.g. AG")
    p.add_argument("--period", type=_period, required=True, help="the last month written (YYYY-MM)")
    p.add_argument("--out", required=True, help="folder: writes OUT/<YYYY-MM>/ and OUT/ground_truth.jsonl")
    p.add_argument("--months", type=int, default=1, help="months written, ending at --period (default 1)")
    p.add_argument("--seed", type=int, default=0, help="the same seed writes the same rows (default 0)")
    p.add_argument(
        "--faults",
        default="",
        help="comma-separated check codes to inject, or `all`; reconciliation_gap and extract_funnel_break "
        "(faults between reports and extracts) only by name",
    )
    p.add_argument(
        "--extracts",
        action="store_true",
        help="also write each month's civil-registry and BHXH extracts (formats.md §3, §4), consistent with the "
        "submissions",
    )
    p.add_argument(
        "--bhxh-participants",
        type=int,
        default=None,
        metavar="N",
        help="participants in the last month's BHXH extract (implies --extracts; e.g. 1600000)",
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("smtp-sink", help="a local SMTP server that writes .eml files to the outbox")
    p.add_argument("action", choices=["start", "stop", "serve"])
    p.add_argument("--port", type=int, default=None, help="default: D06_SMTP_PORT")
    p.set_defaults(func=cmd_smtp_sink)

    p = sub.add_parser("template", help="write the XLSX submission template of a unit (or of every unit) for a month")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", help="unit code, e.g. AG.STP")
    who.add_argument("--province", help="every reporting unit of this province, e.g. AG")
    p.add_argument("--period", type=_period, required=True)
    p.add_argument("-o", "--output", help="output file (--unit) or folder (--province)")
    p.set_defaults(func=cmd_template)


def _add_operating(sub: Any) -> None:
    """Commands that change a period's state: lock it, rebuild it from the archive."""
    p = sub.add_parser("period", help="close, reopen or list closed periods")
    p.add_argument("action", choices=["close", "reopen", "list"])
    p.add_argument("period", type=_period, nargs="?")
    p.add_argument("--by", default=os.environ.get("USER", "d06"), help="who closes the period")
    p.set_defaults(func=cmd_period)

    p = sub.add_parser("replay", help="rebuild a period from the immutable raw archive")
    p.add_argument("--period", type=_period, required=True)
    p.add_argument("--no-build", action="store_true", help="reload the raw tables only")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("grant", help="create a database login that reads one unit's or one province's marts")
    p.add_argument("what", choices=["reader"])
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--unit", help="the unit code the login reads (e.g. AG.STP)")
    scope.add_argument("--province", help="the province code the login reads (e.g. AG)")
    p.add_argument("--login", required=True, help="the login name to create or update")
    p.set_defaults(func=cmd_grant)

    p = sub.add_parser("remind", help="e-mail a reminder to every unit that has not submitted the month due")
    p.add_argument("--day", help="the day the reminders are for (YYYY-MM-DD; default today)")
    p.set_defaults(func=cmd_remind)


def _add_reading(sub: Any) -> None:
    """Commands that read: narrative extraction, the period's summary, the gate's findings."""
    from ingest.narrative import cli as narrative_cli

    p = sub.add_parser(narrative_cli.COMMAND, help="extract the figures of a narrative report (.txt, .docx, .pdf)")
    narrative_cli.add_arguments(p)
    p.set_defaults(func=narrative_cli.run)

    p = sub.add_parser("summary", help="what the warehouse holds for a period")
    p.add_argument("--period", type=_period, required=True)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("violations", help="the quality gate's findings of a period; explain or accept one")
    p.add_argument("--period", type=_period, help="the month listed (YYYY-MM); required to list")
    p.add_argument("--unit", help="only this unit, e.g. AG.STP")
    p.add_argument("--status", help="open, explained, corrected or accepted")
    p.add_argument("--check", help="only this check code (see ingest/registry/checks.yml)")
    p.add_argument("--severity", help="error, warning or info")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_violations)
    decide = p.add_subparsers(dest="action", metavar="explain|accept")
    for action, text in (("explain", "comment on a finding"), ("accept", "confirm a finding's figure is true")):
        q = decide.add_parser(action, help=text)
        q.add_argument("id", type=int, help="the violation id (from `d06 violations --period`)")
        q.add_argument("--by", required=True, help="who decides")
        q.add_argument("--comment", required=True, help="why")


def _add_portal(sub: Any) -> None:
    """The unit submission portal (cổng nộp báo cáo)."""
    p = sub.add_parser("portal", help="the unit submission portal: serve, start|stop in the background, a sign-in link")
    p.add_argument("action", choices=["serve", "start", "stop", "link"])
    p.add_argument("--host", help="address to listen on (default D06_PORTAL_HOST, else 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: D06_PORTAL_PORT")
    p.add_argument("--unit", help="link: the unit code to sign in as, e.g. AG.STP")
    p.add_argument("--minutes", type=int, default=None, help="link: minutes valid (default D06_PORTAL_LINK_MINUTES)")
    p.set_defaults(func=cmd_portal)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    if getattr(args, "action", None) in ("close", "reopen") and not getattr(args, "period", None):
        parser.error(f"period {args.action} needs a period (YYYY-MM)")
    try:
        return int(args.func(args))
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `d06 violations --json | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # no traceback reaches a user: one line, and the traceback on demand
        if os.environ.get("D06_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first} (set D06_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
