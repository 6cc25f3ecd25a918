-- Documents to Amazon that need a person: an ASN or invoice held back by its checks (Amazon charges back an
-- invalid ASN and claims against a wrong invoice, so neither goes until fixed), a document Amazon rejected,
-- and an EDI document Amazon has not answered in time. Times are written in UTC whatever the session's zone.

with

shipments as (
    select * from {{ ref('shipments') }}
),

shipment_lines as (
    select
        despatch_id,
        sum(despatched_eaches * unit_cost) as shipped_value
    from {{ ref('int_shipment_lines_prepared') }}
    group by despatch_id
),

asn_failures as (
    select
        despatch_id,
        string_agg(rule || ': ' || message, '; ' order by rule, message) as failures
    from {{ ref('asn_validation_failures') }}
    group by despatch_id
),

invoice_failures as (
    select
        sage_invoice_id,
        string_agg(rule || ': ' || message, '; ' order by rule, message) as failures
    from {{ ref('invoice_validation_failures') }}
    group by sage_invoice_id
),

documents as (
    select * from {{ ref('int_outbound_documents_answered') }}
),

failed_shipments as (
    select
        'asn_failed_validation' as kind,
        'shipment' as document_type,
        shipments.purchase_order_number || '/' || shipments.despatch_number as document_reference,
        cast(shipment_lines.shipped_value as decimal(18, 2)) as amount,
        'The ASN for Sage despatch ' || shipments.despatch_number || ' (PO ' || shipments.purchase_order_number
            || ', shipment ' || shipments.shipment_id || ') was not sent: ' || asn_failures.failures || '.'
            as message
    from shipments
    inner join asn_failures on shipments.despatch_id = asn_failures.despatch_id
    left join shipment_lines on shipments.despatch_id = shipment_lines.despatch_id
    where shipments.validation_status = 'failed'
),

failed_invoices as (
    select
        'invoice_failed_validation' as kind,
        'invoice' as document_type,
        invoices.purchase_order_number || '/' || invoices.invoice_number as document_reference,
        invoices.gross_amount as amount,
        'Sage invoice ' || invoices.invoice_number || ' (PO ' || invoices.purchase_order_number
            || ') was not sent to Amazon: ' || invoice_failures.failures || '.' as message
    from {{ ref('invoices') }} as invoices
    inner join invoice_failures on invoices.sage_invoice_id = invoice_failures.sage_invoice_id
    where invoices.validation_status = 'failed'
),

rejected_documents as (
    select
        'outbound_document_rejected' as kind,
        document_type,
        file_name as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'Amazon rejected ' || document_standard || ' ' || document_type || ' '
            || coalesce(business_reference, file_name) || ' (' || file_name || ') by ' || answer_kind || ' on '
            || strftime(timezone('UTC', answered_at), '%Y-%m-%d %H:%M UTC') || ': '
            || coalesce(answer_errors, 'no reason given') || '.' as message
    from documents
    where status = 'rejected'
),

unanswered_documents as (
    select
        'outbound_document_unanswered' as kind,
        document_type,
        file_name as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'Amazon has not answered ' || document_standard || ' ' || document_type || ' '
            || coalesce(business_reference, file_name) || ' (' || file_name || '), written '
            || strftime(timezone('UTC', written_at), '%Y-%m-%d %H:%M UTC') || ', by its due time '
            || strftime(timezone('UTC', response_due_at), '%Y-%m-%d %H:%M UTC') || '.' as message
    from documents
    where is_overdue
),

final as (
    select * from failed_shipments
    union all
    select * from failed_invoices
    union all
    select * from rejected_documents
    union all
    select * from unanswered_documents
)

select * from final
