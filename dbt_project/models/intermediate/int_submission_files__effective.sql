-- Which loaded files count for the official figures.  A file received for a closed period after
-- it was closed (loaded into the warehouse after the lock) is held: recorded and reported, but not counted until the period is reopened.
with

ledger as (
    select * from {{ ref('stg_audit__load_ledger') }}
),

locks as (
    select * from {{ ref('stg_audit__period_locks') }}
),

final as (
    select
        ledger.file_id,
        ledger.batch_id,
        ledger.source_kind,
        ledger.received_at,
        ledger.loaded_at,
        ledger.period as file_period,
        locks.closed_at is not null and ledger.loaded_at > locks.closed_at as is_held
    from ledger
    left join locks
        on ledger.period = locks.period
    where ledger.status = 'loaded'
)

select * from final
