{{ config(materialized='table') }}
-- A table: the shipment batch (pipelines/shipments/batch.py) reads it as its work list, with the exact types
-- it relies on. has_notice_sent is as of the build; the batch checks audit.shipment_notices again itself.
-- One row per line of a Sage despatch of an order avc2sage acknowledged: the ASN is built only from what
-- Sage confirms left the warehouse, in Amazon's terms (its PO line, unit and acknowledged quantity and cost).

with

despatches as (
    select * from {{ ref('stg_sage200__order_despatches') }}
),

despatch_lines as (
    select * from {{ ref('stg_sage200__order_despatch_lines') }}
),

order_lines as (
    select * from {{ ref('int_sales_order_lines_mapped') }}
),

sent_notices as (
    select distinct despatch_id
    from {{ ref('stg_app__shipment_notices') }}
    where notice_status = 'sent'
),

lines as (
    select
        despatch_lines.*,
        despatch_lines.despatched_quantity * order_lines.selling_unit_multiple as despatched_base_quantity,
        order_lines.po_number as order_po_number,
        order_lines.line_number as order_po_line_number,
        order_lines.sales_order_id as order_sales_order_id
    from despatch_lines
    inner join order_lines on despatch_lines.sales_order_line_id = order_lines.sales_order_line_id
),

-- What ship notices already sent announced for each PO line of the order: "no more than acknowledged" holds
-- for the PO line over all its despatches, not for each despatch alone.
announced as (
    select
        lines.order_sales_order_id as sales_order_id,
        lines.order_po_line_number as line_number,
        sum(lines.despatched_base_quantity) as announced_eaches
    from lines
    inner join sent_notices on lines.despatch_id = sent_notices.despatch_id
    group by all
),

final as (
    select
        cast(despatches.despatch_id as bigint) as despatch_id,
        cast(despatches.despatch_number as varchar) as despatch_number,
        cast(despatches.despatch_date as timestamptz) as despatched_at,
        cast(nullif(despatches.courier_name, '') as varchar) as courier_name,
        cast(nullif(despatches.consignment_number, '') as varchar) as consignment_number,
        cast(nullif(despatches.despatch_notes, '') as varchar) as despatch_notes,
        cast(order_lines.sales_order_id as bigint) as sales_order_id,
        cast(order_lines.sales_order_number as varchar) as sales_order_number,
        cast(order_lines.po_number as varchar) as po_number,
        cast(order_lines.content_sha256 as varchar) as content_sha256,
        cast(order_lines.po_date as date) as po_date,
        cast(order_lines.vendor_code as varchar) as vendor_code,
        cast(order_lines.marketplace as varchar) as marketplace,
        cast(order_lines.edi_standard as varchar) as edi_standard,
        cast(order_lines.ship_to_qualifier as varchar) as ship_to_qualifier,
        cast(order_lines.ship_to_id as varchar) as ship_to_id,
        cast(order_lines.our_party_id as varchar) as our_party_id,
        cast(order_lines.partner_id as varchar) as partner_id,
        cast(despatch_lines.despatch_line_id as bigint) as despatch_line_id,
        cast(despatch_lines.sales_order_line_id as bigint) as sales_order_line_id,
        cast(order_lines.line_id as varchar) as line_id,
        cast(order_lines.line_number as bigint) as line_number,
        cast(order_lines.unit_of_measure as varchar) as unit_of_measure,
        cast(order_lines.eaches_per_unit as decimal(18, 5)) as eaches_per_unit,
        cast(despatch_lines.product_code as varchar) as product_code,
        cast(despatch_lines.warehouse_name as varchar) as warehouse_name,
        -- Sage despatches in the order line's selling unit; Amazon counts eaches.
        cast(despatch_lines.despatched_quantity * order_lines.selling_unit_multiple as decimal(18, 5))
            as despatched_eaches,
        cast(order_lines.acknowledged_eaches as decimal(18, 5)) as acknowledged_eaches,
        cast(coalesce(announced.announced_eaches, 0) as decimal(18, 5)) as announced_before_eaches,
        cast(order_lines.acknowledged_unit_cost as decimal(18, 2)) as unit_cost,
        cast(sent_notices.despatch_id is not null as boolean) as has_notice_sent
    from despatch_lines
    inner join despatches on despatch_lines.despatch_id = despatches.despatch_id
    inner join order_lines on despatch_lines.sales_order_line_id = order_lines.sales_order_line_id
    left join sent_notices on despatches.despatch_id = sent_notices.despatch_id
    left join announced
        on order_lines.sales_order_id = announced.sales_order_id
        and order_lines.line_number = announced.line_number
    -- The despatch itself must name the PO and the order acknowledged, not only its lines' order.
    where despatches.customer_order_number = order_lines.po_number
        and despatches.sales_order_number = order_lines.sales_order_number
)

select * from final
