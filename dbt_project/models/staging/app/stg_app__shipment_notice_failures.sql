with

source as (
    select * from {{ source('audit', 'shipment_notice_failures') }}
),

renamed as (
    select
        notice_id,
        -- The rule's name in pipelines/shipments/rules.py, e.g. sscc_check_digit.
        rule as failed_rule,
        -- What is wrong and the fix, in the words a person acts on.
        message as failure_message
    from source
)

select * from renamed
