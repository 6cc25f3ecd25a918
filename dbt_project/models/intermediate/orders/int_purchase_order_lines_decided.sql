-- Each latest-version PO line beside what the last decision for its PO said about it: how much was
-- accepted, backordered and rejected (in the unit Amazon ordered in), why, and when it ships.

with

lines as (
    select * from {{ ref('int_purchase_order_lines_resolved') }}
),

orders as (
    select
        po_number,
        decision_id,
        decided_version_id
    from {{ ref('int_purchase_orders_prepared') }}
),

decision_lines as (
    select
        decision_id,
        line_number,
        sum(decided_quantity) filter (where decision_status = 'Accepted') as accepted_quantity,
        sum(decided_quantity) filter (where decision_status = 'Backordered') as backordered_quantity,
        sum(decided_quantity) filter (where decision_status = 'Rejected') as rejected_quantity,
        max(rejection_reason) as rejection_reason,
        max(ship_date) filter (where decision_status = 'Accepted') as accepted_ship_date,
        max(ship_date) filter (where decision_status = 'Backordered') as backorder_ship_date,
        count(*) as outcome_count
    from {{ ref('stg_app__purchase_order_decision_lines') }}
    group by decision_id, line_number
),

-- The product id Amazon knows the item by: the ASIN where the PO gave one, else the first identifier sent.
amazon_product_ids as (
    select
        purchase_order_version_id,
        line_number,
        coalesce(
            max(identifier_value) filter (where identifier_qualifier = 'BP'),
            arg_min(identifier_value, identifier_position)
        ) as amazon_product_id
    from {{ ref('stg_amazon__purchase_order_line_identifiers') }}
    group by purchase_order_version_id, line_number
),

final as (
    select
        lines.*,
        amazon_product_ids.amazon_product_id,
        case when orders.decided_version_id = lines.purchase_order_version_id then orders.decision_id end
            as decision_id,
        coalesce(decision_lines.accepted_quantity, 0) as accepted_quantity,
        coalesce(decision_lines.backordered_quantity, 0) as backordered_quantity,
        coalesce(decision_lines.rejected_quantity, 0) as rejected_quantity,
        decision_lines.rejection_reason,
        decision_lines.accepted_ship_date,
        decision_lines.backorder_ship_date,
        case
            when decision_lines.decision_id is null then null
            when decision_lines.outcome_count > 1 then 'PartiallyAccepted'
            when decision_lines.accepted_quantity is not null then 'Accepted'
            when decision_lines.backordered_quantity is not null then 'Backordered'
            else 'Rejected'
        end as acknowledgement_code
    from lines
    inner join orders on lines.po_number = orders.po_number
    -- Only a decision about this very version: after Amazon changes a PO, its lines are not the ones decided.
    left join decision_lines
        on orders.decision_id = decision_lines.decision_id
        and orders.decided_version_id = lines.purchase_order_version_id
        and lines.line_number = decision_lines.line_number
    left join amazon_product_ids
        on lines.purchase_order_version_id = amazon_product_ids.purchase_order_version_id
        and lines.line_number = amazon_product_ids.line_number
)

select * from final
