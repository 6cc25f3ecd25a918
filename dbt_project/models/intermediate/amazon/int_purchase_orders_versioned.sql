-- Every version of every PO, numbered in the order Amazon sent them, with what changed since the one
-- before. Amazon changes POs after acknowledgement (window, quantities, a cancelled line, a new FC): the
-- latest version is the PO; the history explains what the order desk has to re-check.

with

orders as (
    select * from {{ ref('stg_amazon__purchase_orders') }}
),

line_totals as (
    select
        purchase_order_version_id,
        sum(ordered_quantity) as total_ordered_quantity
    from {{ ref('stg_amazon__purchase_order_lines') }}
    group by purchase_order_version_id
),

with_totals as (
    select
        orders.*,
        coalesce(line_totals.total_ordered_quantity, 0) as total_ordered_quantity
    from orders
    left join line_totals on orders.purchase_order_version_id = line_totals.purchase_order_version_id
),

versioned as (
    select
        *,
        row_number() over po_history as version_number,
        count(*) over (partition by po_number) as version_count,
        lag(window_start_date) over po_history as previous_window_start_date,
        lag(window_end_date) over po_history as previous_window_end_date,
        lag(ship_to_id) over po_history as previous_ship_to_id,
        lag(line_count) over po_history as previous_line_count,
        lag(total_ordered_quantity) over po_history as previous_total_ordered_quantity,
        lag(po_purpose) over po_history as previous_po_purpose
    from with_totals
    window po_history as (partition by po_number order by received_at, content_sha256)
),

final as (
    select
        purchase_order_version_id,
        po_number,
        version_number,
        version_number = version_count as is_latest_version,
        received_at as version_received_at,
        case when version_number > 1 then concat_ws(', ',
            case when window_start_date is distinct from previous_window_start_date
                or window_end_date is distinct from previous_window_end_date then 'delivery window' end,
            case when ship_to_id is distinct from previous_ship_to_id then 'ship-to location' end,
            case when line_count is distinct from previous_line_count then 'number of lines' end,
            case when total_ordered_quantity is distinct from previous_total_ordered_quantity then 'quantities' end,
            case when po_purpose is distinct from previous_po_purpose then 'purpose' end
        ) end as changes_from_previous_version,
        * exclude (
            purchase_order_version_id, po_number, version_number, version_count, received_at,
            previous_window_start_date, previous_window_end_date, previous_ship_to_id, previous_line_count,
            previous_total_ordered_quantity, previous_po_purpose
        )
    from versioned
)

select * from final
