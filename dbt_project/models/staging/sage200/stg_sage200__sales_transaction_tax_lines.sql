with

source as (
    select * from {{ source('raw_sage200', 'sales_posted_transactions__tax_analysis_items') }}
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
        source._dlt_list_idx + 1 as line_number,
        -- Sage names the tax code's id `id` on these lines.
        source.id as tax_code_id,

        ---------- strings
        source.code as tax_code,
        source.name as tax_code_name,
        source.entry_type as tax_entry_type,

        ---------- numerics
        -- With the transaction's sign: invoice +, credit note −.
        cast(source.goods_amount as decimal(18, 2)) as signed_goods_value,
        cast(source.tax_amount as decimal(18, 2)) as signed_tax_value,
        cast(source.tax_discount_amount as decimal(18, 2)) as signed_tax_discount_value
    from source
    left join sales_transactions
        on source._dlt_parent_id = sales_transactions._dlt_id
)

select * from renamed
