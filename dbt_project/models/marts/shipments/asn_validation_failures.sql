-- Why each despatch not yet announced was held back: every failure of its latest ASN check, each naming its
-- fix. A despatch whose notice went has none. Documented in docs/warehouse.md.

with

notices as (
    select * from {{ ref('stg_app__shipment_notices') }}
),

sent_despatches as (
    select distinct despatch_id from notices where notice_status = 'sent'
),

latest_checks as (
    select notices.*
    from notices
    anti join sent_despatches on notices.despatch_id = sent_despatches.despatch_id
    qualify row_number() over (partition by notices.despatch_id order by notices.sequence_number desc) = 1
),

final as (
    select
        cast(latest_checks.despatch_id as bigint) as despatch_id,
        cast(latest_checks.shipment_id as varchar) as shipment_id,
        cast(latest_checks.po_number as varchar) as purchase_order_number,
        cast(failures.failed_rule as varchar) as rule,
        cast(failures.failure_message as varchar) as message,
        cast(latest_checks.checked_at as timestamptz) as checked_at
    from latest_checks
    inner join {{ ref('stg_app__shipment_notice_failures') }} as failures
        on latest_checks.notice_id = failures.notice_id
    where latest_checks.notice_status = 'failed_validation'
)

select * from final
