with

source as (
    select * from {{ source('audit', 'invoice_submission_failures') }}
),

renamed as (
    select
        submission_id,
        -- The rule's name in pipelines/invoices/rules.py, e.g. unit_cost_is_acknowledged_cost.
        rule as failed_rule,
        -- What is wrong and the fix, in the words a person acts on.
        message as failure_message
    from source
)

select * from renamed
