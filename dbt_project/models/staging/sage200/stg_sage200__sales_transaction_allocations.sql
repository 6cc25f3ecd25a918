{#- dlt creates the allocation table with the first allocation Sage reports, and the sample company (like a
    new tenant) has none yet. Until the table exists the model reads an empty stand-in with the raw columns
    it selects, so the staging layer still builds; the first `dbt build` after dlt creates the table reads
    the real rows (the pipeline builds after every load). -#}
{%- set allocation_items = source('raw_sage200', 'sales_posted_transactions__allocation_history_items') -%}
{%- set is_loaded = relation_exists(allocation_items) -%}

with

source as (
    {% if is_loaded -%}
    select * from {{ allocation_items }}
    {%- else -%}
    select
        cast(null as bigint) as id,
        cast(null as varchar) as trading_revaluation_allocation_entry_type,
        cast(null as timestamptz) as entry_date,
        cast(null as decimal(18, 2)) as allocation_value,
        cast(null as decimal(18, 6)) as exchange_rate,
        cast(null as decimal(18, 2)) as exchange_gain_loss,
        cast(null as boolean) as nominal_updated,
        cast(null as timestamptz) as date_time_created,
        cast(null as timestamptz) as date_time_updated,
        cast(null as varchar) as _dlt_parent_id
    where false
    {%- endif %}
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
        source.id as allocation_id,
        sales_transactions.sales_transaction_id,

        ---------- strings
        source.trading_revaluation_allocation_entry_type as allocation_entry_type,

        ---------- numerics
        -- Same sign as the outstanding value it reduces: + against an invoice, − against a receipt or
        -- credit note; the lines of one allocation add up to zero across the transactions it matched.
        cast(source.allocation_value as decimal(18, 2)) as signed_allocated_value,
        cast(source.exchange_gain_loss as decimal(18, 2)) as exchange_gain_loss_value,
        source.exchange_rate,

        ---------- booleans
        source.nominal_updated as is_nominal_updated,

        ---------- dates
        cast(source.entry_date as timestamptz) as allocation_date,

        ---------- timestamps
        cast(source.date_time_created as timestamptz) as created_at,
        cast(source.date_time_updated as timestamptz) as updated_at
    from source
    left join sales_transactions
        on source._dlt_parent_id = sales_transactions._dlt_id
)

select * from renamed
