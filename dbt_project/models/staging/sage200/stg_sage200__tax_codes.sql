with

source as (
    select * from {{ source('raw_sage200', 'tax_codes') }}
),

renamed as (
    select
        ---------- ids
        id as tax_code_id,
        -- Sage's tax code number (by UK convention 0 exempt, 1 standard, 2 zero rated), not the id.
        code as tax_code,

        ---------- strings
        name as tax_code_name,
        terms as tax_terms,
        terms_description as tax_terms_description,

        ---------- numerics
        cast(tax_rate as decimal(18, 2)) as tax_rate_percent,

        ---------- booleans
        is_notional_acquisition_tax,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
