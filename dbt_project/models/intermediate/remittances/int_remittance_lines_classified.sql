-- Each line of the latest version of every payment, with its kind from the seed deduction_patterns (the
-- lowest priority number whose patterns match; none is `other`) and the root invoice it concerns: a
-- shortage claim's chain of SC / SCR suffixes stripped (0000000014SCRSC → 0000000014), a price claim's or an
-- invoice payment's own number, an 820 adjustment's invoice.
--
-- The seed's rows become one CASE, in priority order, when the model runs: DuckDB compiles a regular
-- expression once when it is a constant, but again for every row when it comes from a joined column, which
-- made classifying a large vendor's year take half a minute instead of half a second. The rows are read from
-- the seed's table itself (not through ref, which a dbt unit test would point at its fixture).
{%- set patterns_query -%}
    select priority, invoice_number_pattern, coalesce(description_pattern, '') as description_pattern, line_kind
    from {{ target.database }}.seeds.deduction_patterns
    order by priority
{%- endset -%}
{%- set patterns = run_query(patterns_query).rows if execute else [] %}

with

payments as (
    select * from {{ ref('int_remittance_payments_versioned') }}
    where is_latest_version
),

lines as (
    select lines.*
    from {{ ref('stg_amazon__remittance_lines') }} as lines
    inner join payments on lines.remittance_version_id = payments.remittance_version_id
),

-- The first pattern that matches, by priority (null when none does).
first_matching_pattern as (
    select
        lines.*,
        {%- if patterns %}
        case
        {%- for pattern in patterns %}
            when regexp_full_match(lines.invoice_number, '{{ pattern[1] | replace("'", "''") }}')
            {%- if pattern[2] %}
                -- An 820's invoice lines carry no description: matched as empty text.
                and regexp_full_match(coalesce(lines.description, ''), '{{ pattern[2] | replace("'", "''") }}')
            {%- endif %}
                then {{ pattern[0] }}
        {%- endfor %}
        end
        {%- else %}
        cast(null as integer)
        {%- endif %} as pattern_priority
    from lines
),

classified as (
    select
        first_matching_pattern.*,
        coalesce(patterns.line_kind, 'other') as line_kind
    from first_matching_pattern
    left join {{ ref('deduction_patterns') }} as patterns
        on first_matching_pattern.pattern_priority = patterns.priority
),

final as (
    select
        classified.remittance_version_id,
        classified.payment_number,
        cast(classified.line_number as integer) as line_number,
        payments.vendor_code,
        payments.payment_date,
        payments.currency,
        payments.sage_customer_account,
        payments.customer_id,
        classified.invoice_number,
        classified.invoice_date,
        classified.description,
        classified.po_number,
        classified.transaction_type,
        classified.original_invoice_number,
        classified.line_kind,
        classified.pattern_priority,
        case when classified.line_kind <> 'invoice_payment' then classified.line_kind end as deduction_type,
        classified.gross_amount,
        coalesce(classified.discount_amount, 0) as discount_amount,
        classified.paid_amount,
        -- What the line settles on an invoice: the cash plus the terms discount Amazon took on it.
        case
            when classified.line_kind = 'invoice_payment'
                then cast(classified.paid_amount + coalesce(classified.discount_amount, 0) as decimal(18, 2))
            else classified.paid_amount
        end as settlement_amount,
        case
            when classified.line_kind in ('shortage_claim', 'claim_reversal', 'revised_claim')
                then regexp_replace(classified.invoice_number, '(?i)(SCR|SC)+$', '')
            when classified.line_kind in ('invoice_payment', 'price_claim', 'terms_discount')
                then coalesce(classified.original_invoice_number, classified.invoice_number)
            else classified.original_invoice_number
        end as root_invoice_number
    from classified
    inner join payments on classified.remittance_version_id = payments.remittance_version_id
)

select * from final
