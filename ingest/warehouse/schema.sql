-- Landing, registry and audit tables that the Python side owns.  dbt reads them as sources.
-- Idempotent: `d06 db init` runs this on every bootstrap.
create schema if not exists raw;
create schema if not exists registry;
create schema if not exists audit;

create table if not exists audit.load_ledger (
    file_id          bigserial primary key,
    batch_id         text        not null,
    file_name        text        not null,
    source_kind      text        not null check (source_kind in ('template', 'narrative', 'extract')),
    sha256           char(64)    not null unique,
    size_bytes       bigint      not null,
    unit_code        text,
    period           text,
    received_at      timestamptz not null,
    loaded_at        timestamptz not null default now(),
    status           text        not null check (status in ('loaded', 'rejected', 'held')),
    rows_read        integer     not null,
    rows_loaded      integer     not null,
    rows_quarantined integer     not null,
    error_code       text,
    error_vi         text,
    error_en         text,
    archive_path     text        not null,
    constraint rows_balance check (rows_read = rows_loaded + rows_quarantined)
);
create index if not exists load_ledger_unit_period on audit.load_ledger (unit_code, period);
-- The period the file was loaded for (`--period`, or its inbox folder), so a replay validates alike.
alter table audit.load_ledger add column if not exists requested_period text;
-- File-level notices (an unknown column and its nearest alias, the encoding detected), for the report.
alter table audit.load_ledger add column if not exists notices jsonb not null default '[]';
-- Where received_at comes from: 'ingest' (when the landing call received the file), 'supplied'
-- (`d06 ingest --received-at`) or 'manifest' (the inbox folder's received.csv).  Never a file's
-- modification time, which copying changes.  Rows from before this column were loaded by mtime.
alter table audit.load_ledger add column if not exists received_at_source text not null default 'ingest';
alter table audit.load_ledger drop constraint if exists load_ledger_received_at_source_check;
alter table audit.load_ledger add constraint load_ledger_received_at_source_check
    check (received_at_source in ('ingest', 'supplied', 'manifest'));
-- Source kinds and statuses widen over time: the checks are re-created to their current lists.
-- 'review' is a corrected review workbook; 'failed' is a file an unexpected error stopped.
alter table audit.load_ledger drop constraint if exists load_ledger_source_kind_check;
alter table audit.load_ledger add constraint load_ledger_source_kind_check
    check (source_kind in ('template', 'review', 'narrative', 'extract', 'civil_registry', 'bhxh'));
alter table audit.load_ledger drop constraint if exists load_ledger_status_check;
alter table audit.load_ledger add constraint load_ledger_status_check
    check (status in ('loaded', 'rejected', 'held', 'failed'));

-- The landing tables have no foreign key to the ledger: only the landing path writes them, in
-- the same transaction as the ledger rows, and a per-row foreign-key check would cost more than
-- the COPY itself.  dbt tests the relationship (stg_raw__* file_id -> stg_audit__load_ledger).
create table if not exists raw.submission_row (
    file_id          bigint      not null,
    row_no           integer     not null,
    unit_code        text        not null,
    period           text        not null,
    indicator_code   text        not null,
    service_code     text        not null,
    numerator        bigint      not null,
    denominator      bigint,
    reported_rate    numeric(9, 2),
    note             text,
    flags            text[]      not null default '{}',
    source_kind      text        not null,
    source_line      integer,
    snippet          text,
    batch_id         text        not null,
    source_sha256    char(64)    not null,
    loaded_at        timestamptz not null default now(),
    primary key (file_id, row_no)
);

create table if not exists raw.quarantine (
    file_id          bigint      not null,
    row_no           integer     not null,
    column_name      text,
    raw_value        text,
    reason_code      text        not null,
    reason_vi        text        not null,
    reason_en        text        not null,
    raw_row          jsonb       not null default '{}',
    batch_id         text        not null,
    quarantined_at   timestamptz not null default now(),
    primary key (file_id, row_no)
);

alter table raw.submission_row drop constraint if exists submission_row_file_id_fkey;
alter table raw.quarantine drop constraint if exists quarantine_file_id_fkey;

-- Source extracts (formats.md §3, §4): what the source systems export, loaded beside what units
-- report so that the two can be reconciled.  No row cap; streamed by COPY like submission rows.
-- Civil-registry (hộ tịch) sync counts: cumulative stocks per commune x record type, as of
-- extract_date; several extracts a month are all kept, the latest is the month's value (dbt).
create table if not exists raw.civil_registry_count (
    file_id          bigint      not null,
    row_no           integer     not null,
    extract_date     date        not null,
    commune_code     text        not null,
    record_type      text        not null,
    records_total    bigint      not null,
    records_scanned  bigint      not null,
    records_entered  bigint      not null,
    records_synced   bigint      not null,
    batch_id         text        not null,
    primary key (file_id, row_no)
);
-- BHXH identity verification, one row per participant, pseudonymised on the way in: the
-- social-insurance code and the personal ID number are keyed HMAC-SHA256 digests (hex, keyed by
-- D06_PSEUDONYM_KEY); names and birth dates never reach the warehouse (the birth year may).
create table if not exists raw.bhxh_verification (
    file_id          bigint      not null,
    row_no           integer     not null,
    extract_date     date        not null,
    participant_key  char(64)    not null,
    person_key       char(64),
    birth_year       smallint,
    commune_code     text        not null,
    status           text        not null,
    status_at        date,
    batch_id         text        not null,
    primary key (file_id, row_no)
);

create table if not exists audit.pipeline_run (
    run_id           text primary key,
    period           text        not null,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    status           text        not null default 'running'
);
-- Which steps completed, why a run failed, and its summary: a run always ends success or failed.
alter table audit.pipeline_run add column if not exists steps_done text[] not null default '{}';
alter table audit.pipeline_run add column if not exists error text;
alter table audit.pipeline_run add column if not exists summary jsonb;

create table if not exists audit.check_result (
    run_id           text        not null,
    period           text        not null,
    check_name       text        not null,
    description_vi   text        not null,
    success          boolean     not null,
    evaluated        bigint,
    unexpected       bigint,
    details          jsonb       not null default '{}',
    checked_at       timestamptz not null default now(),
    primary key (run_id, check_name)
);

create table if not exists audit.report_delivery (
    run_id           text        not null,
    period           text        not null,
    report_path      text        not null,
    recipients       text[]      not null,
    message_id       text        not null,
    sent_at          timestamptz not null default now(),
    primary key (run_id, message_id)
);

-- Reminders before the deadline (ingest.reminders): at most one per unit and day, whoever runs them.
create table if not exists audit.reminder_sent (
    unit_code  text        not null,
    sent_on    date        not null,
    period     text        not null,
    message_id text,
    sent_at    timestamptz not null default now(),
    primary key (unit_code, sent_on)
);

create table if not exists audit.period_lock (
    period           text primary key,
    closed_at        timestamptz not null default now(),
    closed_by        text        not null
);

-- Registry tables: truncated and reloaded by `d06 registry sync` from ingest/registry/.
create table if not exists registry.indicator (
    indicator_code         text primary key,
    name_vi                text    not null,
    name_en                text    not null,
    domain                 text    not null,
    domain_name_vi         text    not null,
    numerator_definition   text    not null,
    denominator_definition text    not null,
    denominator_kind       text    not null,
    measure_type           text    not null,
    count_unit             text    not null,
    has_service            boolean not null,
    target_pct             numeric(9, 2),
    target_date            date
);

create table if not exists registry.indicator_reporter (
    indicator_code  text not null,
    reporter_role   text not null,
    service_code    text not null,
    primary key (indicator_code, reporter_role, service_code)
);
alter table registry.indicator_reporter add column if not exists counts_for_province boolean not null default false;

create table if not exists registry.service (
    service_code    text primary key,
    service_no      integer,
    service_name_vi text not null
);

create table if not exists registry.unit (
    unit_code       text primary key,
    unit_name       text not null,
    unit_kind       text not null,
    parent_code     text,
    province_code   text not null,
    gso_code        text,
    valid_from      date not null,
    valid_to        date,
    contact_email   text not null
);

create table if not exists registry.unit_succession (
    predecessor_code text    not null,
    successor_code   text    not null,
    effective_date   date    not null,
    share            numeric(12, 9) not null,
    primary key (predecessor_code, successor_code, effective_date)
);

create table if not exists registry.plan_task (
    task_id                 text primary key,
    plan_code               text not null,
    section                 text not null,
    task_no                 integer,
    title_vi                text not null,
    lead_unit_code          text,
    lead_text               text,
    coordinating_unit_codes text[] not null default '{}',
    coordinating_text       text,
    deadline                date,
    deadline_text           text,
    recurring               boolean not null,
    status                  text not null,
    status_as_of            date not null,
    source_line             integer
);

-- Plan-task statuses a lead unit reports each month on the second sheet (nhiem_vu) of its template:
-- one row per sheet row that states something; a row that cannot count keeps its reason and no status.
create table if not exists raw.plan_task_status (
    file_id     bigint      not null,
    row_no      integer     not null,
    unit_code   text        not null,
    period      text        not null,
    task_id     text,
    status      text        check (status in ('done', 'in_progress', 'behind')),
    note        text,
    reason_code text,
    reason_vi   text,
    reason_en   text,
    loaded_at   timestamptz not null default now(),
    primary key (file_id, row_no),
    check ((status is null) = (reason_code is not null))
);

-- Which source-extract measures an indicator's figures correspond to (indicators.yml `extract:`),
-- for the reconciliation of what units report with what the source systems export.
create table if not exists registry.indicator_extract (
    indicator_code      text          primary key,
    extract_source      text          not null check (extract_source in ('civil_registry', 'bhxh')),
    numerator_measure   text          not null,
    denominator_measure text,
    tolerance_pct       numeric(9, 4) not null check (tolerance_pct between 0 and 100),
    system_of_record    text          not null check (system_of_record in ('extract', 'report'))
);

-- Settings that Python and dbt share, so that each has one value (the report deadline day).
create table if not exists registry.setting (
    key   text primary key,
    value text not null
);

-- Consistency findings of narrative reports (stated rate vs figures, parts vs totals).
create table if not exists raw.narrative_finding (
    file_id     bigint  not null references audit.load_ledger (file_id) on delete cascade,
    finding_no  integer not null,
    line_no     integer,
    code        text    not null,
    message_vi  text    not null,
    message_en  text    not null,
    snippet     text,
    primary key (file_id, finding_no)
);

-- The quality gate's check catalogue (ingest/registry/checks.yml), for the marts and the report.
create table if not exists registry.quality_check (
    check_code  text primary key,
    check_no    integer not null,
    severity    text    not null check (severity in ('error', 'warning', 'info')),
    scope       text    not null check (scope in ('row', 'submission')),
    title_vi    text    not null,
    title_en    text    not null,
    fix_vi      text    not null
);

-- The violation ledger: one row per check x unit x indicator x service x period, updated by
-- every gate run that checks its period and never duplicated.  A submission-level check
-- (missing_submission, late_submission) has no indicator and no service.
--   open       found by the last run that checked the period
--   explained  a person commented on it; an explained error still holds its unit x period
--   corrected  a later run no longer finds it (set by the gate)
--   accepted   a person confirmed the figure is true; an accepted error is published
-- A finding whose values change after it was explained or accepted opens again.
create table if not exists audit.violation (
    violation_id    bigserial   primary key,
    check_code      text        not null,
    severity        text        not null check (severity in ('error', 'warning', 'info')),
    unit_code       text        not null,
    indicator_code  text,
    service_code    text,
    period          text        not null,
    "values"        jsonb       not null default '{}',
    file_id         bigint,
    status          text        not null default 'open'
                                check (status in ('open', 'explained', 'corrected', 'accepted')),
    first_run_id    text        not null,
    last_run_id     text        not null,
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    status_by       text,
    status_comment  text,
    status_at       timestamptz,
    constraint violation_key unique nulls not distinct
        (check_code, unit_code, indicator_code, service_code, period)
);
create index if not exists violation_period_status on audit.violation (period, status);

-- What the gate checked: the content hash of each unit x period's candidate values
-- (int_unit_periods__candidate).  Only content the gate checked is published.
create table if not exists audit.unit_period_check (
    unit_code     text        not null,
    period        text        not null,
    content_hash  text        not null,
    run_id        text        not null,
    checked_at    timestamptz not null default now(),
    primary key (unit_code, period)
);

-- What each build of the monthly run last saw when it succeeded (ingest.transform.scope): the
-- next build rebuilds only the months that changed since.  'publication:staged' is a build not
-- yet published.
create table if not exists audit.build_mark (
    build           text        primary key check (build in ('stage', 'publication', 'publication:staged')),
    file_watermark  bigint      not null,
    locks           jsonb       not null,
    fingerprint     text        not null,
    marked_at       timestamptz not null
);

-- The e-mails of each period's report (ingest/reporting/mail_delivery.py): one row per message,
-- keyed by its dedupe key (period, kind, recipient and a digest of what it says; run_id is the
-- run that claimed it).  A retried send step, a re-run of the period and a concurrent run skip
-- what is 'sent' or being sent; 'sending' is a message claimed or handed to the server whose
-- outcome was not recorded (sent again by a retry of the same run, or by any run once the claim
-- is 10 minutes old, with the same Message-ID and dedupe key); 'refused' is a
-- permanent refusal of that message (tried again by a retry, so the step keeps failing until the
-- address is fixed).  Addresses are the units' official contact addresses.
create table if not exists audit.mail_delivery (
    dedupe_key    text        primary key,
    run_id        text        not null,
    period        text        not null,
    kind          text        not null check (kind in ('summary', 'unit')),
    recipient     text        not null,
    unit_codes    text[]      not null default '{}',
    message_id    text        not null,
    status        text        not null check (status in ('sending', 'sent', 'refused')),
    error         text,
    attempted_at  timestamptz not null default now(),
    sent_at       timestamptz
);
create index if not exists mail_delivery_run on audit.mail_delivery (run_id);

-- The unit submission portal (ingest/portal): one-time sign-in links, sessions, sign-in attempts
-- (the rate limit) and uploads.  Only SHA-256 hashes of link tokens, session ids, addresses and
-- client addresses are stored, never the values.  Rows older than a day past their end are deleted.
create schema if not exists portal;

create table if not exists portal.signin_link (
    token_hash    char(64)    primary key,
    unit_code     text        not null,
    address_hash  char(64)    not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    used_at       timestamptz
);

-- role 'province': the province row of the unit registry, which sees every unit of its province.
create table if not exists portal.session (
    session_hash  char(64)    primary key,
    unit_code     text        not null,
    role          text        not null check (role in ('unit', 'province')),
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    revoked_at    timestamptz
);

create table if not exists portal.signin_attempt (
    attempt_id    bigserial   primary key,
    attempted_at  timestamptz not null default now(),
    action        text        not null check (action in ('request', 'redeem')),
    succeeded     boolean     not null,
    address_hash  char(64),
    client_hash   char(64)    not null
);
create index if not exists signin_attempt_address on portal.signin_attempt (address_hash, attempted_at);
create index if not exists signin_attempt_client on portal.signin_attempt (client_hash, attempted_at);

-- Every upload, landed or refused before landing ('refused': another unit's rows, a format the
-- portal does not take, a source extract).  received_at is the server's time when the upload
-- finished arriving; a landed file's ledger row (file_id) has the same received_at.
create table if not exists portal.upload (
    upload_id     bigserial   primary key,
    unit_code     text        not null,
    signed_in_as  text        not null,
    period        text        not null,
    file_name     text        not null,
    size_bytes    bigint      not null,
    received_at   timestamptz not null,
    status        text        not null check (status in ('loaded', 'duplicate', 'rejected', 'failed', 'refused')),
    file_id       bigint,
    reason_code   text,
    reason_vi     text,
    reason_en     text
);
create index if not exists upload_unit on portal.upload (unit_code, received_at);
create index if not exists upload_file on portal.upload (file_id);
