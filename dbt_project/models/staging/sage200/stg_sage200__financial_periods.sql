with

source as (
    select * from {{ source('raw_sage200', 'financial_year_period_views') }}
),

renamed as (
    select
        ---------- ids
        accounting_period_id as financial_period_id,
        financial_year_id,

        ---------- numerics
        period_number,
        number_of_periods_in_year,
        -- 0 is the current financial year, -1 the previous one, 1 the next.
        year_relative_to_current_year,

        ---------- dates
        -- Sage's end dates are the last day at midnight, not the end of it: compare dates, not instants.
        cast(period_start_date as timestamptz) as period_start_date,
        cast(period_end_date as timestamptz) as period_end_date,
        cast(financial_year_start_date as timestamptz) as financial_year_start_date,
        cast(financial_year_end_date as timestamptz) as financial_year_end_date
    from source
)

select * from renamed
