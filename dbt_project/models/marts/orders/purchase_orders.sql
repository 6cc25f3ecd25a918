-- One row per Amazon PO (its latest version): where it is in order-to-cash — its Sage order, its
-- acknowledgement and deadline — and what needs a person. Documented in docs/warehouse.md.

with

orders as (
    select * from {{ ref('int_purchase_orders_prepared') }}
),

line_totals as (
    select
        purchase_order_number,
        count(*) as line_count,
        sum(ordered_value) as ordered_value,
        sum(accepted_quantity * unit_size * unit_cost) as accepted_value,
        count(*) filter (where resolution_status <> 'resolved') as unresolved_line_count
    from {{ ref('purchase_order_lines') }}
    group by purchase_order_number
),

final as (
    select
        cast(orders.po_number as varchar) as purchase_order_number,
        cast(orders.vendor_code as varchar) as vendor_code,
        cast(orders.edi_standard as varchar) as edi_standard,
        cast(orders.po_type as varchar) as po_type,
        cast(orders.po_date as date) as po_date,
        cast(orders.received_at as timestamptz) as received_at,
        cast(orders.version_number as bigint) as version_number,
        cast(orders.version_received_at as timestamptz) as version_received_at,
        cast(orders.changes_from_previous_version as varchar) as changes_from_previous_version,
        cast(orders.window_start_date as date) as window_start_date,
        cast(orders.window_end_date as date) as window_end_date,
        cast(orders.is_backorder_allowed as boolean) as is_backorder_allowed,
        cast(orders.ship_to_qualifier as varchar) as ship_to_qualifier,
        cast(orders.ship_to_id as varchar) as ship_to_id,
        cast(orders.location_code as varchar) as ship_to_location,
        cast(orders.sales_order_number as varchar) as sage_order_number,
        cast(orders.order_status as varchar) as order_status,
        cast(orders.blocked_reason as varchar) as blocked_reason,
        cast(orders.sales_order_failure as varchar) as sales_order_failure,
        cast(orders.acknowledgement_status as varchar) as acknowledgement_status,
        cast(orders.acknowledgement_due_at as timestamptz) as acknowledgement_due_at,
        cast(orders.acknowledged_at as timestamptz) as acknowledged_at,
        cast(orders.acknowledged_at > orders.acknowledgement_due_at as boolean) as was_acknowledged_late,
        cast(orders.acknowledgement_file_name as varchar) as acknowledgement_file_name,
        cast(orders.is_changed_after_order as boolean) as is_changed_after_order,
        cast(coalesce(line_totals.line_count, 0) as bigint) as line_count,
        cast(coalesce(line_totals.unresolved_line_count, 0) as bigint) as unresolved_line_count,
        cast(coalesce(line_totals.ordered_value, 0) as decimal(18, 2)) as ordered_value,
        cast(coalesce(line_totals.accepted_value, 0) as decimal(18, 2)) as accepted_value
    from orders
    left join line_totals on orders.po_number = line_totals.purchase_order_number
)

select * from final
