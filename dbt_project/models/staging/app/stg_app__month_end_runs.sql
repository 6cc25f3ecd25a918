with

source as (
    select * from {{ source('audit', 'month_end_runs') }}
),

renamed as (
    select
        sequence_number,
        close_id,
        -- The month closed, as YYYY-MM.
        period,
        -- 1, 2, … per period for a close that passed its checks; null for a blocked attempt.
        version as close_version,
        status as close_status,
        closed_by,
        closed_at,
        code_version,
        manifest_sha256,
        pack_path,
        open_exceptions,
        note as close_note,
        -- The full pass the close ran, and the close's own run.
        flow_run_id,
        run_id
    from source
)

select * from renamed
