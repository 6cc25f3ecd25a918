with

source as (
    select * from {{ source('audit', 'clearing_bank_checks') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        check_id,
        bank_code,
        -- What Sage says the clearing bank holds, what the payments posted through it say it should hold.
        sage_balance,
        expected_balance,
        difference,
        payments_checked,
        detail as check_detail,
        checked_at,
        run_id
    from source
)

select * from renamed
