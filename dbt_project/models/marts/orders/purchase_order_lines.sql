-- One row per line of the latest version of every Amazon PO: what Amazon ordered, the Sage product and
-- unit it resolved to (or why not), and what we acknowledged. The public face of
-- int_purchase_order_lines_decided; documented in docs/warehouse.md.

with

lines as (
    select * from {{ ref('int_purchase_order_lines_decided') }}
),

final as (
    select
        cast(po_number as varchar) as purchase_order_number,
        cast(line_number as bigint) as line_number,
        cast(line_id as varchar) as line_id,
        cast(vendor_code as varchar) as vendor_code,
        cast(amazon_product_id as varchar) as amazon_product_id,
        cast(ordered_quantity as decimal(18, 5)) as ordered_quantity,
        cast(ordered_unit as varchar) as ordered_unit,
        cast(unit_of_measure as varchar) as ordered_unit_as_sent,
        cast(unit_size as decimal(18, 5)) as unit_size,
        cast(ordered_base_quantity as decimal(18, 5)) as ordered_base_quantity,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        cast(ordered_base_quantity * unit_cost as decimal(18, 2)) as ordered_value,
        cast(product_code as varchar) as sage_product_code,
        cast(selling_unit_name as varchar) as sage_selling_unit,
        cast(selling_quantity as decimal(18, 5)) as sage_selling_quantity,
        cast(selling_unit_price as decimal(18, 2)) as sage_selling_unit_price,
        cast(sage_price_per_each as decimal(18, 5)) as sage_price_per_each,
        cast(price_variance_percent as decimal(9, 2)) as price_variance_percent,
        cast(price_check as varchar) as price_check,
        cast(resolution_status as varchar) as resolution_status,
        cast(acknowledgement_code as varchar) as acknowledgement_code,
        cast(accepted_quantity as decimal(18, 5)) as accepted_quantity,
        cast(backordered_quantity as decimal(18, 5)) as backordered_quantity,
        cast(rejected_quantity as decimal(18, 5)) as rejected_quantity,
        cast(rejection_reason as varchar) as rejection_reason,
        cast(accepted_ship_date as date) as accepted_ship_date,
        cast(backorder_ship_date as date) as backorder_ship_date
    from lines
)

select * from final
