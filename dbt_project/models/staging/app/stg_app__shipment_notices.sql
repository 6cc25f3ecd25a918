with

source as (
    select * from {{ source('audit', 'shipment_notices') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        notice_id,
        despatch_id,
        despatch_number,
        -- The id the ASN carries (BSN02 / BGM 1004 / shipmentIdentifier); unique at Amazon for 365 days.
        shipment_id,
        po_number,
        sales_order_number,
        vendor_code,
        standard as notice_standard,
        -- sent, or failed_validation (the rules it broke are in shipment_notice_failures).
        status as notice_status,
        cartons as carton_count,
        pallets as pallet_count,
        shipped_at,
        asn_due_at,
        document_id,
        file_name as notice_file_name,
        label_file as label_file_name,
        checked_at,
        run_id
    from source
)

select * from renamed
