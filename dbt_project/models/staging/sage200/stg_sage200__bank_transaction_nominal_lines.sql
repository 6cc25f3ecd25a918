{#- Only cash book nominal payments and receipts have nominal analysis lines (a sales receipt has none), so
    dlt creates this table with the first of them. Until it exists the model reads an empty stand-in with
    the raw columns it selects, so the staging layer still builds; the first `dbt build` after dlt creates
    the table reads the real rows. -#}
{%- set nominal_items = source('raw_sage200', 'bank_posted_transactions__nominal_analysis_items') -%}
{%- set is_loaded = relation_exists(nominal_items) -%}

with

source as (
    {% if is_loaded -%}
    select * from {{ nominal_items }}
    {%- else -%}
    select
        cast(null as varchar) as code,
        cast(null as varchar) as cost_centre,
        cast(null as varchar) as department,
        cast(null as varchar) as narrative,
        cast(null as varchar) as reference,
        cast(null as decimal(18, 2)) as value,
        cast(null as decimal(18, 2)) as base_value,
        cast(null as varchar) as _dlt_parent_id,
        cast(null as bigint) as _dlt_list_idx
    where false
    {%- endif %}
),

-- The one join staging allows: a child row knows its parent only by dlt's row id, so the parent's Sage
-- id is looked up here, once, for every model downstream.
bank_transactions as (
    select
        _dlt_id,
        id as bank_transaction_id
    from {{ source('raw_sage200', 'bank_posted_transactions') }}
),

renamed as (
    select
        ---------- ids
        bank_transactions.bank_transaction_id,
        -- Sage's own order of the lines, from 1.
        source._dlt_list_idx + 1 as line_number,

        ---------- strings
        source.code as nominal_reference,
        source.cost_centre,
        source.department,
        source.narrative,
        source.reference as line_reference,

        ---------- numerics
        -- With the bank transaction's sign (money in +, money out −), not the nominal's: a receipt's lines
        -- are + although in nominal terms they credit the accounts analysed.
        cast(source.value as decimal(18, 2)) as signed_value,
        cast(source.base_value as decimal(18, 2)) as signed_base_value
    from source
    left join bank_transactions
        on source._dlt_parent_id = bank_transactions._dlt_id
)

select * from renamed
