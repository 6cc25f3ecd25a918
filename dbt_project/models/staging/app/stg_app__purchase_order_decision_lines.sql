with

source as (
    select * from {{ source('audit', 'purchase_order_decision_lines') }}
),

renamed as (
    select
        decision_id,
        line_number,
        line_id,
        -- Accepted, Backordered or Rejected; a part fill has two rows for its line.
        status as decision_status,
        -- In the unit Amazon ordered in (cases or eaches).
        quantity as decided_quantity,
        rejection_reason,
        ship_date,
        unit_cost,
        warehouse_id
    from source
)

select * from renamed
