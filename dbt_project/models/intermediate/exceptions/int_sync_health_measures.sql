{{ config(materialized='table') }}

-- What each flow has waiting and how well it does, from the marts: one row per flow of seed sync_flows.
-- Rates are shares (0..1) over everything the flow has handled so far; null when there is nothing to measure.
-- What each counts, in words, is the seed's (sync_flows.backlog_description / success_rate_description).

with

inbound_files as (
    select * from {{ ref('stg_amazon__inbound_files') }}
),

purchase_orders as (
    select * from {{ ref('purchase_orders') }}
    where order_status not in ('ordered_outside_avc2sage', 'not_needed', 'cancelled', 'test_order')
),

shipments as (
    select * from {{ ref('shipments') }}
),

invoices as (
    select * from {{ ref('invoices') }}
),

payments as (
    select * from {{ ref('remittance_payments') }}
),

invoice_payment_lines as (
    select * from {{ ref('remittance_lines') }}
    where line_kind = 'invoice_payment'
),

sage_loads as (
    select * from {{ ref('stg_app__runs') }}
    where job = 'sage_load' and run_status <> 'running'
    -- a day of reads at the 15-minute schedule
    qualify row_number() over (order by started_at desc) <= 96
),

latest_clearing_check as (
    select difference
    from {{ ref('stg_app__clearing_bank_checks') }}
    order by sequence_number desc
    limit 1
),

po_intake as (
    select
        'po_intake' as flow,
        count(*) filter (where outcome in ('quarantined', 'partially_loaded')) as backlog,
        count(*) filter (where outcome = 'loaded') / nullif(count(*) filter (where outcome <> 'duplicate'), 0)
            as success_rate
    from inbound_files
),

sales_orders as (
    select
        'sales_orders' as flow,
        count(*) filter (where order_status in ('pending', 'failed', 'blocked')) as backlog,
        count(*) filter (where order_status = 'ordered') / nullif(count(*), 0) as success_rate
    from purchase_orders
),

acknowledgements as (
    select
        'acknowledgements' as flow,
        count(*) filter (where acknowledgement_status in ('on_time', 'at_risk', 'overdue')) as backlog,
        count(*) filter (where acknowledgement_status = 'sent' and not was_acknowledged_late)
            / nullif(count(*) filter (where acknowledgement_status = 'sent'), 0) as success_rate
    from purchase_orders
),

-- Ship notices and invoices go to Amazon alike: held or not built yet (not sent), then not rejected.
outbound_documents as (
    select 'asns' as flow, transmission_status from shipments
    union all
    select 'invoices' as flow, transmission_status from invoices
),

documents_to_amazon as (
    select
        document_flows.flow,
        count(*) filter (where transmission_status = 'not_sent') as backlog,
        count(*) filter (where transmission_status in ('sent', 'acknowledged', 'accepted'))
            / nullif(count(*) filter (where transmission_status <> 'not_sent'), 0) as success_rate
    -- both flows, with nothing waiting when Sage has no despatch or invoice yet
    from (values ('asns'), ('invoices')) as document_flows (flow)
    left join outbound_documents on document_flows.flow = outbound_documents.flow
    group by document_flows.flow
),

remittance_payments as (
    select count(*) filter (where posting_status not in ('posted', 'refused')) as backlog
    from payments
),

remittance_matching as (
    select
        count(*) filter (where match_status in ('matched', 'partially_matched')) / nullif(count(*), 0)
            as matched_by_count,
        sum(allocated_amount) filter (where amount > 0) / nullif(sum(amount) filter (where amount > 0), 0)
            as matched_by_value
    from invoice_payment_lines
),

remittances as (
    select
        'remittances' as flow,
        remittance_payments.backlog,
        remittance_matching.matched_by_count as success_rate,
        remittance_matching.matched_by_value as matched_by_value_ratio,
        coalesce((select difference from latest_clearing_check), 0) as clearing_bank_unexplained
    from remittance_payments
    cross join remittance_matching
),

sage_reads as (
    select
        'sage_reads' as flow,
        cast(null as bigint) as backlog,
        count(*) filter (where run_status = 'succeeded') / nullif(count(*), 0) as success_rate
    from sage_loads
),

measures as (
    select * from po_intake
    union all by name
    select * from sales_orders
    union all by name
    select * from acknowledgements
    union all by name
    select * from documents_to_amazon
    union all by name
    select * from remittances
    union all by name
    select * from sage_reads
),

final as (
    select
        flow,
        cast(backlog as integer) as backlog,
        cast(success_rate as decimal(7, 4)) as success_rate,
        cast(matched_by_value_ratio as decimal(7, 4)) as matched_by_value_ratio,
        cast(clearing_bank_unexplained as decimal(18, 2)) as clearing_bank_unexplained
    from measures
)

select * from final
