-- One row per Sage despatch of an order avc2sage acknowledged: its ship notice (ASN) — checked, sent, what
-- Amazon said — and whether it was, or is, late. Documented in docs/warehouse.md.

with

despatches as (
    select
        despatch_id,
        despatch_number,
        po_number,
        sales_order_number,
        vendor_code,
        despatched_at
    from {{ ref('int_shipment_lines_prepared') }}
    qualify row_number() over (partition by despatch_id order by despatch_line_id) = 1
),

notices as (
    select * from {{ ref('stg_app__shipment_notices') }}
),

latest_notices as (
    select *
    from notices
    qualify row_number() over (partition by despatch_id order by sequence_number desc) = 1
),

sent_notices as (
    select *
    from notices
    where notice_status = 'sent'
    qualify row_number() over (partition by despatch_id order by sequence_number desc) = 1
),

documents as (
    select
        document_id,
        status,
        written_at
    from {{ ref('int_outbound_documents_answered') }}
),

joined as (
    select
        despatches.*,
        -- Once a notice is sent, later checks (there should be none) do not change what Amazon was told.
        coalesce(sent_notices.shipment_id, latest_notices.shipment_id, despatches.despatch_number) as shipment_id,
        coalesce(
            sent_notices.asn_due_at,
            latest_notices.asn_due_at,
            -- Before its first check, the batch's own rule (pipelines/shipments/batch.py `_due`): Sage stamps a
            -- despatch with its day at midnight, the hour unknown, so the notice is due by the end of that day
            -- in the company's time zone; a despatch with an hour is due asn_due_minutes after it.
            case
                when cast(timezone('UTC', despatches.despatched_at) as time) = time '00:00:00'
                    then timezone(
                        {{ business_setting('company.timezone', 'varchar') }},
                        cast(cast(timezone('UTC', despatches.despatched_at) as date) + 1 as timestamp)
                    )
                else despatches.despatched_at + to_minutes({{ var('asn_due_minutes') }})
            end
        ) as asn_due_at,
        coalesce(documents.written_at, sent_notices.checked_at) as asn_sent_at,
        case
            when sent_notices.notice_id is not null then 'passed'
            when latest_notices.notice_status = 'failed_validation' then 'failed'
            else 'not_checked'
        end as validation_status,
        case
            when sent_notices.notice_id is null then 'not_sent'
            else coalesce(documents.status, 'sent')
        end as transmission_status,
        coalesce(sent_notices.carton_count, latest_notices.carton_count) as cartons,
        coalesce(sent_notices.pallet_count, latest_notices.pallet_count) as pallets,
        sent_notices.document_id,
        sent_notices.notice_file_name as file_name,
        sent_notices.label_file_name as label_file
    from despatches
    left join latest_notices on despatches.despatch_id = latest_notices.despatch_id
    left join sent_notices on despatches.despatch_id = sent_notices.despatch_id
    left join documents on sent_notices.document_id = documents.document_id
),

final as (
    select
        cast(despatch_id as bigint) as despatch_id,
        cast(shipment_id as varchar) as shipment_id,
        cast(despatch_number as varchar) as despatch_number,
        cast(po_number as varchar) as purchase_order_number,
        cast(sales_order_number as varchar) as sales_order_number,
        cast(vendor_code as varchar) as vendor_code,
        cast(despatched_at as timestamptz) as despatched_at,
        cast(asn_due_at as timestamptz) as asn_due_at,
        cast(asn_sent_at as timestamptz) as asn_sent_at,
        cast(validation_status as varchar) as validation_status,
        cast(transmission_status as varchar) as transmission_status,
        cast(cartons as integer) as cartons,
        cast(pallets as integer) as pallets,
        cast(document_id as varchar) as document_id,
        cast(file_name as varchar) as file_name,
        cast(label_file as varchar) as label_file,
        cast(
            case
                when asn_sent_at is not null then asn_sent_at > asn_due_at
                else {{ as_of_time() }} > asn_due_at
            end as boolean
        ) as is_late
    from joined
)

select * from final
