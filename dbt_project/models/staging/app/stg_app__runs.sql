with

source as (
    select * from {{ source('audit', 'runs') }}
),

renamed as (
    select
        run_id,
        job,
        trigger as run_trigger,
        code_version,
        started_at,
        ended_at,
        status as run_status,
        error as error_message
    from source
)

select * from renamed
