with

source as (
    select * from {{ source('raw_sage200', 'sales_posted_transactions__nominal_analysis_items') }}
),

-- The one join staging allows: a child row knows its parent only by dlt's row id, so the parent's Sage
-- id is looked up here, once, for every model downstream.
sales_transactions as (
    select
        _dlt_id,
        id as sales_transaction_id
    from {{ source('raw_sage200', 'sales_posted_transactions') }}
),

renamed as (
    select
        ---------- ids
        sales_transactions.sales_transaction_id,
        -- Sage's own order of the lines, from 1.
        source._dlt_list_idx + 1 as line_number,

        ---------- strings
        source.code as nominal_reference,
        source.cost_centre,
        source.department,
        source.narrative,
        source.transaction_analysis_code,
        source.source as source_ledger,

        ---------- numerics
        -- The line's part of the transaction's goods value, with the transaction's sign (invoice +, credit
        -- note −); in nominal terms an invoice line is a credit to the sales account.
        cast(source.value as decimal(18, 2)) as signed_goods_value,
        cast(source.base_value as decimal(18, 2)) as signed_base_goods_value
    from source
    left join sales_transactions
        on source._dlt_parent_id = sales_transactions._dlt_id
)

select * from renamed
