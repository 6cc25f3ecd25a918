-- Each PO (its latest version) with everything order-to-cash needs to act on it, and where it stands: its
-- Sage order (ours, or keyed in Sage before avc2sage saw the PO), its decision and acknowledgement, its
-- deadline, and whether the next batch must order it, acknowledge it, or leave it to a person.

with

versions as (
    select * from {{ ref('int_purchase_orders_versioned') }}
),

-- Amazon's clock starts when the PO first arrives; a later version does not reset it.
first_received as (
    select
        po_number,
        min(version_received_at) as received_at
    from versions
    group by po_number
),

latest as (
    select * from versions where is_latest_version
),

vendor_codes as (
    select * from {{ ref('stg_app__vendor_codes') }}
),

customers as (
    select
        customer_id,
        customer_reference
    from {{ ref('stg_sage200__customers') }}
),

locations as (
    select * from {{ ref('amazon_locations') }}
),

inbound_files as (
    select
        file_name,
        sender_id,
        receiver_id
    from {{ ref('stg_amazon__inbound_files') }}
    qualify row_number() over (partition by file_name order by processed_at desc) = 1
),

-- The exactly-once key of a PO's Sage order: the order batch posts under it (pipelines/orders/batch.py reads
-- it from here, so the format lives in one place).
order_postings as (
    select *
    from {{ ref('stg_app__sage_postings') }}
    where sage_resource = 'sop_orders'
    qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
),

our_orders as (
    select * from order_postings where posting_status in ('posted', 'found')
),

-- Orders already in Sage for the PO that avc2sage did not create (keyed by hand, or before go-live).
sage_orders as (
    select
        sales_orders.customer_order_number as po_number,
        sales_orders.customer_id,
        min(sales_orders.sales_order_number) as sales_order_number,
        min(sales_orders.order_date) as order_date
    from {{ ref('stg_sage200__sales_orders') }} as sales_orders
    group by sales_orders.customer_order_number, sales_orders.customer_id
),

decision_totals as (
    select
        decision_id,
        sum(decided_quantity) filter (where decision_status <> 'Rejected') as quantity_to_order
    from {{ ref('stg_app__purchase_order_decision_lines') }}
    group by decision_id
),

decisions as (
    select
        decisions.*,
        coalesce(decision_totals.quantity_to_order, 0) as quantity_to_order
    from {{ ref('stg_app__purchase_order_decisions') }} as decisions
    left join decision_totals on decisions.decision_id = decision_totals.decision_id
    qualify row_number() over (
        partition by decisions.po_number order by decisions.sequence_number desc
    ) = 1
),

acknowledgements as (
    select *
    from {{ ref('stg_app__purchase_order_acknowledgements') }}
    qualify row_number() over (partition by po_number order by sequence_number desc) = 1
),

uncosted_lines as (
    select
        po_number,
        count(*) as lines_without_cost
    from {{ ref('int_purchase_order_lines_resolved') }}
    where acknowledged_unit_cost is null or acknowledged_unit_cost <= 0
    group by po_number
),

failures as (
    select *
    from {{ ref('stg_app__purchase_order_failures') }}
    qualify row_number() over (partition by po_number, failed_step order by sequence_number desc) = 1
),

joined as (
    select
        latest.purchase_order_version_id,
        latest.po_number,
        latest.content_sha256,
        latest.vendor_code,
        latest.po_type,
        latest.po_purpose,
        latest.po_date,
        latest.currency,
        latest.is_test,
        latest.is_backorder_allowed,
        latest.window_start_date,
        latest.window_end_date,
        latest.ship_to_qualifier,
        latest.ship_to_id,
        latest.version_number,
        latest.version_received_at,
        latest.changes_from_previous_version,
        latest.source_file,
        first_received.received_at,
        vendor_codes.edi_standard,
        vendor_codes.sage_customer_account,
        customers.customer_id,
        inbound_files.sender_id as partner_id,
        inbound_files.receiver_id as our_id,
        locations.location_code,
        locations.postal_name as delivery_postal_name,
        locations.address_1 as delivery_address_1,
        locations.address_2 as delivery_address_2,
        locations.city as delivery_city,
        locations.postcode as delivery_postcode,
        locations.country as delivery_country,
        'sop_order:' || latest.vendor_code || ':' || latest.po_number as order_posting_key,
        our_orders.sage_id as sales_order_id,
        order_postings.sage_reference as our_sales_order_number,
        our_orders.source_version as ordered_content_sha256,
        order_postings.posting_status as last_order_posting_status,
        order_postings.source_version as last_order_posting_version,
        sage_orders.sales_order_number as sage_sales_order_number,
        sage_orders.order_date as sage_order_date,
        decisions.decision_id,
        decisions.purchase_order_version_id as decided_version_id,
        decisions.quantity_to_order,
        acknowledgements.acknowledgement_id,
        acknowledgements.acknowledged_at,
        acknowledgements.acknowledgement_file_name,
        acknowledgements.purchase_order_version_id as acknowledged_version_id,
        coalesce(uncosted_lines.lines_without_cost, 0) as lines_without_cost,
        order_failures.failure_message as sales_order_failure,
        acknowledgement_failures.failure_message as acknowledgement_failure,
        first_received.received_at
            + to_hours({{ business_setting('lead_times.ack_deadline_hours', 'integer') }}) as acknowledgement_due_at
    from latest
    inner join first_received on latest.po_number = first_received.po_number
    left join vendor_codes on latest.vendor_code = vendor_codes.vendor_code
    left join customers on vendor_codes.sage_customer_account = customers.customer_reference
    left join inbound_files on latest.source_file = inbound_files.file_name
    left join locations
        on latest.ship_to_qualifier = locations.ship_to_qualifier
        and latest.ship_to_id = locations.ship_to_id
    left join order_postings
        on order_postings.posting_key = 'sop_order:' || latest.vendor_code || ':' || latest.po_number
    left join our_orders on order_postings.posting_id = our_orders.posting_id
    left join sage_orders
        on latest.po_number = sage_orders.po_number
        and customers.customer_id = sage_orders.customer_id
    left join uncosted_lines on latest.po_number = uncosted_lines.po_number
    left join decisions on latest.po_number = decisions.po_number
    left join acknowledgements on latest.po_number = acknowledgements.po_number
    left join failures as order_failures
        on latest.po_number = order_failures.po_number
        and order_failures.failed_step = 'sales_order'
    left join failures as acknowledgement_failures
        on latest.po_number = acknowledgement_failures.po_number
        and acknowledgement_failures.failed_step = 'acknowledgement'
        and acknowledgement_failures.sequence_number > coalesce(acknowledgements.sequence_number, -1)
),

with_order_status as (
    select
        *,
        case
            when vendor_code is null or edi_standard is null then 'vendor code ' || coalesce(vendor_code, '?')
                || ' is not in the business configuration'
            when customer_id is null then 'Sage has no customer ' || sage_customer_account
                || ' (vendor_codes.' || vendor_code || '.sage_customer_account)'
            when location_code is null then 'ship-to ' || coalesce(ship_to_qualifier, '?') || ' '
                || coalesce(ship_to_id, '?') || ' is not in the seed amazon_locations'
            when lines_without_cost > 0 then lines_without_cost
                || ' line(s) have no cost to acknowledge: neither the PO nor Sage''s price book gives one'
        end as blocked_reason,
        case
            when sales_order_id is not null then 'ordered'
            when po_purpose = '01' then 'cancelled'
            when is_test then 'test_order'
            -- Our own POST went unanswered: Sage may hold our order, so it is never someone else's; the batch
            -- settles it first (pending, or failed while the answer stays unknown).
            when last_order_posting_status in ('attempting', 'unknown') then null
            when last_order_posting_status = 'found_existing' or sage_sales_order_number is not null
                then 'ordered_outside_avc2sage'
            when decision_id is not null and quantity_to_order = 0
                and decided_version_id = purchase_order_version_id then 'not_needed'
        end as settled_order_status
    from joined
),

final as (
    select
        * exclude (settled_order_status, our_sales_order_number, sage_sales_order_number),
        coalesce(our_sales_order_number, sage_sales_order_number) as sales_order_number,
        coalesce(
            settled_order_status,
            case
                when blocked_reason is not null then 'blocked'
                when sales_order_failure is not null or last_order_posting_status = 'unknown' then 'failed'
                else 'pending'
            end
        ) as order_status,
        case
            when acknowledgement_id is not null then 'sent'
            when settled_order_status in ('cancelled', 'test_order', 'ordered_outside_avc2sage') then 'not_required'
            when {{ as_of_time() }} >= acknowledgement_due_at then 'overdue'
            when {{ as_of_time() }} >= acknowledgement_due_at
                - to_hours({{ var('acknowledgement_at_risk_hours') }}) then 'at_risk'
            else 'on_time'
        end as acknowledgement_status,
        -- A new version after the order or the acknowledgement: Sage's order, or what Amazon was told, no
        -- longer matches the PO.
        case
            when sales_order_id is not null then purchase_order_version_id <> po_number || ':' || ordered_content_sha256
            when acknowledgement_id is not null then purchase_order_version_id <> acknowledged_version_id
            when sage_sales_order_number is not null then version_number > 1
                and cast(version_received_at as date) > cast(sage_order_date as date)
            else false
        end as is_changed_after_order
    from with_order_status
)

select * from final
