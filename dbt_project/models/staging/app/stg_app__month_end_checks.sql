with

source as (
    select * from {{ source('audit', 'month_end_checks') }}
),

renamed as (
    select
        close_id,
        check_name,
        passed,
        measured,
        expected,
        detail as check_detail
    from source
)

select * from renamed
