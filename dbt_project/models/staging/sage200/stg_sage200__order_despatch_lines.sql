with

source as (
    select * from {{ source('raw_sage200', 'sop_order_despatch_line_views') }}
),

renamed as (
    select
        ---------- ids
        sop_despatch_line_id as despatch_line_id,
        sop_despatch_id as despatch_id,
        sop_order_line_id as sales_order_line_id,
        sop_order_id as sales_order_id,
        product_id,
        warehouse_id,
        warehouse_holding_id,
        customer_id,
        sop_order_line_type_id as order_line_type_id,

        ---------- strings
        sop_despatch_document_no as despatch_number,
        sop_order_document_no as sales_order_number,
        sop_order_customer_document_no as customer_order_number,
        sop_order_document_status_type as order_status,
        sop_order_line_item_code as product_code,
        sop_order_line_item_description as line_description,
        product_name,
        warehouse_name,
        customer_reference,
        sop_despatch_courier_name as courier_name,
        sop_despatch_consignment_no as consignment_number,
        sys_courier_tracking_url as courier_tracking_url,

        ---------- numerics
        -- Quantities in the order line's selling unit.
        cast(sop_despatch_line_quantity as decimal(18, 5)) as despatched_quantity,
        cast(sop_order_line_quantity as decimal(18, 5)) as ordered_quantity,
        cast(sop_order_line_despatch_quantity as decimal(18, 5)) as line_despatched_quantity,
        sop_order_line_print_sequence_number as line_sequence_number,

        ---------- booleans
        sop_despatch_line_is_invoiced as is_invoiced,

        ---------- dates
        cast(sop_despatch_date as timestamptz) as despatch_date,
        cast(sop_order_document_date as timestamptz) as order_date,

        ---------- timestamps
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
