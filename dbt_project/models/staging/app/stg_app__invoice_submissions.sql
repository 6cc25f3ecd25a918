with

source as (
    select * from {{ source('audit', 'invoice_submissions') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        submission_id,
        -- Sage's invoice_credit_id.
        sage_invoice_id,
        invoice_number,
        po_number,
        sales_order_number,
        vendor_code,
        standard as submission_standard,
        -- sent, or failed_validation (the rules it broke are in invoice_submission_failures).
        status as submission_status,
        invoice_date,
        gross_amount,
        document_id,
        file_name as submission_file_name,
        checked_at,
        run_id
    from source
)

select * from renamed
