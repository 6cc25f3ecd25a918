{#- sop_orders__lines comes from reading sales orders with $expand=lines, and dlt creates it with the first
    line it sees; a warehouse loaded before that has no such table. Until it exists the model reads an
    empty stand-in with the raw columns it selects, so the staging layer still builds; the first
    `dbt build` after dlt creates the table reads the real rows. -#}
{%- set order_lines = source('raw_sage200', 'sop_orders__lines') -%}
{%- set is_loaded = relation_exists(order_lines) -%}
{#- dlt adds a column with its first non-empty value: until some order line carries a spare text 1 (avc2sage's
    PO line id), the loaded table has no such column. -#}
{%- set has_po_line_ids = is_loaded and 'spare_text_1' in (adapter.get_columns_in_relation(order_lines)
    | map(attribute='name') | list) -%}

with

source as (
    {% if is_loaded -%}
    select * from {{ order_lines }}
    {%- else -%}
    select
        cast(null as bigint) as id,
        cast(null as bigint) as product_id,
        cast(null as bigint) as warehouse_id,
        cast(null as bigint) as tax_code_id,
        cast(null as bigint) as selling_unit_id,
        cast(null as bigint) as pricing_unit_id,
        cast(null as bigint) as line_number,
        cast(null as varchar) as line_type,
        cast(null as varchar) as code,
        cast(null as varchar) as description,
        cast(null as varchar) as spare_text_1,
        cast(null as varchar) as nominal_reference,
        cast(null as varchar) as nominal_cost_centre,
        cast(null as varchar) as nominal_department,
        cast(null as varchar) as selling_unit_description,
        cast(null as varchar) as allocation_status,
        cast(null as varchar) as despatch_receipt_status,
        cast(null as varchar) as invoice_credit_status,
        cast(null as decimal(18, 5)) as line_quantity,
        cast(null as decimal(18, 5)) as allocated_quantity,
        cast(null as decimal(18, 5)) as despatch_receipt_quantity,
        cast(null as decimal(18, 5)) as invoice_credit_quantity,
        cast(null as decimal(18, 5)) as posted_invoice_credit_quantity,
        cast(null as decimal(18, 5)) as stock_unit_line_quantity,
        cast(null as decimal(18, 7)) as selling_unit_multiple,
        cast(null as decimal(18, 5)) as selling_unit_price,
        cast(null as decimal(18, 2)) as unit_discount_percent,
        cast(null as decimal(18, 5)) as unit_discount_value,
        cast(null as decimal(18, 2)) as discounted_unit_price,
        cast(null as decimal(18, 2)) as line_total_value,
        cast(null as decimal(18, 2)) as line_tax_value,
        cast(null as boolean) as is_complete,
        cast(null as timestamptz) as requested_delivery_date,
        cast(null as timestamptz) as promised_delivery_date,
        cast(null as timestamptz) as date_time_created,
        cast(null as timestamptz) as date_time_updated,
        cast(null as varchar) as _dlt_parent_id
    where false
    {%- endif %}
),

-- The one join staging allows: a child row knows its parent only by dlt's row id, so the parent's Sage
-- id is looked up here, once, for every model downstream.
sales_orders as (
    select
        _dlt_id,
        id as sales_order_id
    from {{ source('raw_sage200', 'sop_orders') }}
),

renamed as (
    select
        ---------- ids
        source.id as sales_order_line_id,
        sales_orders.sales_order_id,
        source.line_number,
        source.product_id,
        source.warehouse_id,
        source.tax_code_id,
        source.selling_unit_id,
        source.pricing_unit_id,

        ---------- strings
        source.line_type,
        source.code as product_code,
        source.description as line_description,
        -- avc2sage writes Amazon's PO line id into Sage's spare text 1 of every order line it creates.
        {% if has_po_line_ids or not is_loaded -%}
        nullif(source.spare_text_1, '') as amazon_po_line_id,
        {%- else -%}
        cast(null as varchar) as amazon_po_line_id,
        {%- endif %}
        source.nominal_reference,
        source.nominal_cost_centre,
        source.nominal_department,
        source.selling_unit_description as selling_unit_name,
        source.allocation_status,
        source.despatch_receipt_status as despatch_status,
        source.invoice_credit_status as invoice_status,

        ---------- numerics
        -- Quantities in the selling unit (a case of 12 is 1), except stock_unit_quantity.
        cast(source.line_quantity as decimal(18, 5)) as quantity,
        cast(source.allocated_quantity as decimal(18, 5)) as allocated_quantity,
        cast(source.despatch_receipt_quantity as decimal(18, 5)) as despatched_quantity,
        cast(source.invoice_credit_quantity as decimal(18, 5)) as invoiced_quantity,
        cast(source.posted_invoice_credit_quantity as decimal(18, 5)) as posted_invoiced_quantity,
        cast(source.stock_unit_line_quantity as decimal(18, 5)) as stock_unit_quantity,
        -- Stock units per selling unit; a ratio at Sage's own 7 decimal places.
        cast(source.selling_unit_multiple as decimal(18, 7)) as selling_unit_multiple,
        -- Unit prices keep Sage's 5 decimal places; only line values are money to the penny.
        cast(source.selling_unit_price as decimal(18, 5)) as unit_price,
        cast(source.unit_discount_percent as decimal(18, 2)) as unit_discount_percent,
        cast(source.unit_discount_value as decimal(18, 5)) as unit_discount,
        cast(source.discounted_unit_price as decimal(18, 2)) as discounted_unit_price,
        cast(source.line_total_value as decimal(18, 2)) as line_net_value,
        cast(source.line_tax_value as decimal(18, 2)) as line_tax_value,

        ---------- booleans
        source.is_complete,

        ---------- dates
        cast(source.requested_delivery_date as timestamptz) as requested_delivery_date,
        cast(source.promised_delivery_date as timestamptz) as promised_delivery_date,

        ---------- timestamps
        cast(source.date_time_created as timestamptz) as created_at,
        cast(source.date_time_updated as timestamptz) as updated_at
    from source
    left join sales_orders
        on source._dlt_parent_id = sales_orders._dlt_id
)

select * from renamed
