with

source as (
    select * from {{ source('raw_sage200', 'sop_order_despatch_views') }}
),

renamed as (
    select
        ---------- ids
        -- One row per despatch of an order: a part-despatched order has several.
        sop_despatch_id as despatch_id,
        sop_order_id as sales_order_id,
        customer_id,

        ---------- strings
        sop_despatch_document_no as despatch_number,
        sop_order_document_no as sales_order_number,
        sop_order_customer_document_no as customer_order_number,
        customer_reference,
        customer_name,
        sop_despatch_courier_name as courier_name,
        sop_despatch_consignment_no as consignment_number,
        sop_despatch_incoterm as incoterm,
        sop_despatch_export_reason as export_reason,
        sop_despatch_notes as despatch_notes,
        sop_despatch_user_name as despatched_by,
        -- Sage gives the order's status as an id here, not the name sop_orders carries.
        sop_order_document_status_id as order_status_id,

        ---------- numerics
        sop_despatch_pieces as pieces,
        sop_despatch_weight as weight,

        ---------- dates
        cast(sop_despatch_date as timestamptz) as despatch_date,
        cast(sop_order_document_date as timestamptz) as order_date
    from source
)

select * from renamed
