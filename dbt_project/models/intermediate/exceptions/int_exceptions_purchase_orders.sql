-- Order-to-cash exceptions: PO lines Sage cannot take as they are, lines short of stock, POs that cannot be
-- ordered or whose order or acknowledgement failed, acknowledgement deadlines, and POs Amazon changed after
-- they were handled. POs whose order was keyed in Sage outside avc2sage, cancelled and test POs are not ours
-- to act on, and a PO for an unknown vendor code is blocked as a whole, so their lines raise nothing.

with

orders as (
    select * from {{ ref('int_purchase_orders_prepared') }}
),

lines as (
    select lines.*
    from {{ ref('int_purchase_order_lines_decided') }} as lines
    inner join orders on lines.po_number = orders.po_number
    where orders.order_status not in ('ordered_outside_avc2sage', 'cancelled', 'test_order')
        -- A PO for a vendor code we do not have is one problem (po_blocked), not one per line.
        and orders.edi_standard is not null
),

resolution_problems as (
    select
        case resolution_status
            when 'unknown_product' then 'po_line_unknown_product'
            when 'ambiguous_product' then 'po_line_ambiguous_product'
            when 'discontinued_product' then 'po_line_discontinued_product'
            when 'fractional_quantity' then 'po_line_fractional_quantity'
            else 'po_line_unit_mismatch'
        end as kind,
        'purchase_order_line' as document_type,
        po_number || '#' || line_id as document_reference,
        cast(ordered_base_quantity * unit_cost as decimal(18, 2)) as amount,
        'PO ' || po_number || ' line ' || line_id || ' (' || coalesce(amazon_product_id, 'no identifier') || ', '
            || {{ quantity_text('ordered_quantity') }} || ' ' || unit_of_measure || '): '
            || case resolution_status
                when 'unknown_product' then 'no Sage product has any of its identifiers'
                when 'ambiguous_product' then product_candidate_count || ' Sage products match its identifiers'
                when 'discontinued_product' then 'Sage product ' || product_code || ' is not active for sales'
                when 'fractional_quantity' then {{ quantity_text('ordered_base_quantity') }}
                    || ' eaches is not a whole number of ' || selling_unit_name
                when 'unknown_unit' then 'the unit ' || unit_of_measure || ' is neither cases nor eaches'
                else 'Amazon''s unit size ' || {{ quantity_text('unit_size') }}
                    || ' matches no unit of Sage product ' || product_code
            end || '.' as message
    from lines
    where resolution_status not in ('resolved', 'cancelled_line')
),

price_problems as (
    select
        'po_line_price_outside_tolerance' as kind,
        'purchase_order_line' as document_type,
        po_number || '#' || line_id as document_reference,
        cast(ordered_base_quantity * (unit_cost - sage_price_per_each) as decimal(18, 2)) as amount,
        'PO ' || po_number || ' line ' || line_id || ' (' || product_code || '): Amazon''s cost ' || unit_cost
            || ' per each is ' || abs(price_variance_percent) || '% '
            || case when price_variance_percent < 0 then 'below' else 'above' end
            || ' Sage''s Amazon price ' || round(sage_price_per_each, 2) || ' (tolerance '
            || {{ business_setting('tolerances.price_tolerance_percent', 'varchar') }} || '%).' as message
    from lines
    where resolution_status = 'resolved' and price_check = 'outside_tolerance'
),

stock_problems as (
    select
        case when backordered_quantity > 0 then 'po_line_backordered' else 'po_line_out_of_stock' end as kind,
        'purchase_order_line' as document_type,
        po_number || '#' || line_id as document_reference,
        cast((backordered_quantity + rejected_quantity) * unit_size * unit_cost as decimal(18, 2)) as amount,
        'PO ' || po_number || ' line ' || line_id || ' (' || product_code || '): '
            || case
                when backordered_quantity > 0 then {{ quantity_text('backordered_quantity') }} || ' '
                    || unit_of_measure || ' backordered to ' || backorder_ship_date
                else {{ quantity_text('rejected_quantity') }} || ' ' || unit_of_measure
                    || ' rejected, no stock and no backorders allowed'
            end || ' (' || {{ quantity_text('accepted_quantity') }} || ' accepted).' as message
    from lines
    where resolution_status = 'resolved'
        and (backordered_quantity > 0 or rejection_reason = 'TemporarilyUnavailable')
),

order_problems as (
    select
        case
            when order_status = 'blocked' then 'po_blocked'
            when order_status = 'failed' then 'po_sales_order_failed'
        end as kind,
        'purchase_order' as document_type,
        po_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'PO ' || po_number || ' (' || coalesce(vendor_code, 'no vendor code') || '): '
            || coalesce(blocked_reason, sales_order_failure) || '.' as message
    from orders
    where order_status in ('blocked', 'failed')
),

acknowledgement_problems as (
    select
        'po_acknowledgement_failed' as kind,
        'purchase_order' as document_type,
        po_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'PO ' || po_number || ': the acknowledgement could not be written: ' || acknowledgement_failure as message
    from orders
    where acknowledgement_failure is not null and acknowledgement_status <> 'sent'
),

deadlines as (
    select
        'po_acknowledgement_' || acknowledgement_status as kind,
        'purchase_order' as document_type,
        po_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'PO ' || po_number || ' (' || coalesce(vendor_code, 'no vendor code') || ', received ' || strftime(received_at, '%Y-%m-%d %H:%M %Z')
            || ') must be acknowledged by ' || strftime(acknowledgement_due_at, '%Y-%m-%d %H:%M %Z')
            || '; order status: ' || order_status || '.' as message
    from orders
    where acknowledgement_status in ('at_risk', 'overdue')
),

changes as (
    select
        'po_changed_after_order' as kind,
        'purchase_order' as document_type,
        po_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'PO ' || po_number || ' version ' || version_number || ' arrived ' || strftime(version_received_at, '%Y-%m-%d %H:%M')
            || ' after Sage order ' || coalesce(sales_order_number, '(none)') || ' / the acknowledgement; changed: '
            || coalesce(nullif(changes_from_previous_version, ''), 'line details') || '.' as message
    from orders
    where is_changed_after_order
),

final as (
    select * from resolution_problems
    union all
    select * from price_problems
    union all
    select * from stock_problems
    union all
    select * from order_problems
    union all
    select * from acknowledgement_problems
    union all
    select * from deadlines
    union all
    select * from changes
)

select * from final
