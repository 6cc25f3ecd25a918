with

source as (
    select * from {{ source('audit', 'remittance_plan_lines') }}
),

renamed as (
    select
        payment_number,
        plan_sha256,
        step_sequence,
        step,
        document_code,
        line_number,
        account_type,
        account_code,
        cost_centre,
        department,
        tax_code,
        sage_transaction_id,
        applied_document_code,
        debit,
        credit,
        narrative
    from source
)

select * from renamed
