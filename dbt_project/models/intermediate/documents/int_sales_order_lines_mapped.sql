-- Every line of the Sage orders avc2sage acknowledged, beside the PO version acknowledged and the PO line it
-- fulfils. The ASN and the invoice both speak of PO lines (Amazon's line id, its unit, the quantity and cost
-- acknowledged) while Sage despatches and invoices order lines, so both read the mapping from here.

with

-- Amazon holds us to the latest acknowledgement of a PO (a changed PO may be acknowledged again).
acknowledgements as (
    select
        po_number,
        sales_order_number,
        vendor_code,
        decision_id,
        purchase_order_version_id
    from {{ ref('stg_app__purchase_order_acknowledgements') }}
    where sales_order_number is not null
    qualify row_number() over (partition by po_number, sales_order_number order by sequence_number desc) = 1
),

purchase_orders as (
    select * from {{ ref('stg_amazon__purchase_orders') }}
),

purchase_order_lines as (
    select * from {{ ref('stg_amazon__purchase_order_lines') }}
),

-- The product and unit size the order batch resolved each line to (Sage is their master). Resolution covers
-- the latest version; a line keeps its position and id when Amazon changes a PO, so it is found by those.
resolved_lines as (
    select
        po_number,
        line_number,
        line_id,
        product_code,
        unit_size
    from {{ ref('int_purchase_order_lines_resolved') }}
),

decided_lines as (
    select
        decision_id,
        line_number,
        coalesce(sum(decided_quantity) filter (where decision_status in ('Accepted', 'Backordered')), 0)
            as acknowledged_quantity,
        -- Every outcome of a line carries the same cost (the acknowledgement states it once per line).
        max(unit_cost) as acknowledged_unit_cost
    from {{ ref('stg_app__purchase_order_decision_lines') }}
    group by decision_id, line_number
),

inbound_files as (
    select
        file_name,
        sender_id,
        receiver_id
    from {{ ref('stg_amazon__inbound_files') }}
    qualify row_number() over (partition by file_name order by processed_at desc) = 1
),

vendor_codes as (
    select * from {{ ref('stg_app__vendor_codes') }}
),

sales_orders as (
    select
        sales_order_id,
        sales_order_number,
        customer_order_number,
        customer_id
    from {{ ref('stg_sage200__sales_orders') }}
),

orders as (
    select
        sales_orders.sales_order_id,
        sales_orders.sales_order_number,
        sales_orders.customer_id,
        acknowledgements.po_number,
        purchase_orders.content_sha256,
        acknowledgements.purchase_order_version_id,
        acknowledgements.decision_id,
        purchase_orders.po_date,
        acknowledgements.vendor_code,
        vendor_codes.marketplace,
        vendor_codes.edi_standard,
        coalesce(purchase_orders.currency, vendor_codes.currency) as currency,
        purchase_orders.ship_to_qualifier,
        purchase_orders.ship_to_id,
        -- Our documents answer from the id Amazon addressed the PO to, and go to the id it came from.
        inbound_files.receiver_id as our_party_id,
        inbound_files.sender_id as partner_id
    from acknowledgements
    inner join sales_orders
        on acknowledgements.sales_order_number = sales_orders.sales_order_number
        and acknowledgements.po_number = sales_orders.customer_order_number
    inner join purchase_orders on acknowledgements.purchase_order_version_id = purchase_orders.purchase_order_version_id
    left join vendor_codes on acknowledgements.vendor_code = vendor_codes.vendor_code
    left join inbound_files on purchase_orders.source_file = inbound_files.file_name
),

po_lines as (
    select
        orders.sales_order_id,
        purchase_order_lines.line_number,
        purchase_order_lines.line_id,
        purchase_order_lines.unit_of_measure,
        resolved_lines.product_code,
        resolved_lines.unit_size as eaches_per_unit,
        decided_lines.acknowledged_quantity * resolved_lines.unit_size as acknowledged_eaches,
        decided_lines.acknowledged_unit_cost
    from orders
    inner join purchase_order_lines
        on orders.purchase_order_version_id = purchase_order_lines.purchase_order_version_id
    left join resolved_lines
        on purchase_order_lines.po_number = resolved_lines.po_number
        and purchase_order_lines.line_number = resolved_lines.line_number
        and purchase_order_lines.line_id = resolved_lines.line_id
    left join decided_lines
        on orders.decision_id = decided_lines.decision_id
        and purchase_order_lines.line_number = decided_lines.line_number
),

order_lines as (
    select order_lines.*
    from {{ ref('stg_sage200__sales_order_lines') }} as order_lines
    inner join orders on order_lines.sales_order_id = orders.sales_order_id
),

-- avc2sage writes Amazon's line id on every order line it creates (a part fill's two lines carry the same
-- one). A PO that repeats a line id leaves such a line unmapped rather than guessed.
matched_by_line_id as (
    select
        order_lines.sales_order_line_id,
        po_lines.line_number
    from order_lines
    inner join po_lines
        on order_lines.sales_order_id = po_lines.sales_order_id
        and order_lines.amazon_po_line_id = po_lines.line_id
    qualify count(*) over (partition by order_lines.sales_order_line_id) = 1
),

-- A line keyed in Sage by hand has no line id: it is the PO line of its product when exactly one line
-- orders that product.
matched_by_product as (
    select
        order_lines.sales_order_line_id,
        min(po_lines.line_number) as line_number
    from order_lines
    inner join po_lines
        on order_lines.sales_order_id = po_lines.sales_order_id
        and order_lines.product_code = po_lines.product_code
    where order_lines.amazon_po_line_id is null
    group by order_lines.sales_order_line_id
    having count(*) = 1
),

final as (
    select
        orders.*,
        order_lines.sales_order_line_id,
        order_lines.product_code,
        order_lines.selling_unit_multiple,
        order_lines.discounted_unit_price,
        order_lines.tax_code_id,
        coalesce(order_lines.amazon_po_line_id, po_lines.line_id) as line_id,
        po_lines.line_number,
        -- One PO line may be several Sage lines: sums "per PO line" group by this (unmapped: per order line).
        coalesce(
            'line ' || po_lines.line_number, 'sales order line ' || order_lines.sales_order_line_id
        ) as po_line_key,
        po_lines.unit_of_measure,
        po_lines.eaches_per_unit,
        po_lines.acknowledged_eaches,
        po_lines.acknowledged_unit_cost
    from order_lines
    inner join orders on order_lines.sales_order_id = orders.sales_order_id
    left join matched_by_line_id on order_lines.sales_order_line_id = matched_by_line_id.sales_order_line_id
    left join matched_by_product on order_lines.sales_order_line_id = matched_by_product.sales_order_line_id
    left join po_lines
        on order_lines.sales_order_id = po_lines.sales_order_id
        and coalesce(matched_by_line_id.line_number, matched_by_product.line_number) = po_lines.line_number
)

select * from final
