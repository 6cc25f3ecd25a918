-- Every version of every Amazon payment, numbered in the order they arrived, beside the Sage customer its
-- vendor code invoices. The same payment often comes twice (the 820 or REMADV, then the Vendor Central
-- export, whose content differs): the latest version is the payment; its stated net and its lines' sum are
-- kept apart because a payment whose figures do not add up is refused, not corrected. A file dropped at the
-- top of the inbox names no vendor code: it belongs to the only vendor code, or at least to the one Sage
-- customer every vendor code invoices.

with

payments as (
    select * from {{ ref('stg_amazon__remittance_payments') }}
),

line_totals as (
    select
        remittance_version_id,
        count(*) as line_count,
        sum(paid_amount) as lines_paid_amount
    from {{ ref('stg_amazon__remittance_lines') }}
    group by remittance_version_id
),

vendor_codes as (
    select * from {{ ref('stg_app__vendor_codes') }}
),

the_only_vendor as (
    select
        case when count(*) = 1 then min(vendor_code) end as vendor_code,
        case when count(distinct sage_customer_account) = 1 then min(sage_customer_account) end
            as sage_customer_account
    from vendor_codes
),

customers as (
    select
        customer_id,
        customer_reference
    from {{ ref('stg_sage200__customers') }}
),

versioned as (
    select
        payments.*,
        row_number() over payment_history as version_number,
        count(*) over (partition by payments.payment_number) as version_count
    from payments
    window payment_history as (
        partition by payments.payment_number order by payments.received_at, payments.content_sha256
    )
),

resolved as (
    select
        versioned.*,
        coalesce(versioned.vendor_code, the_only_vendor.vendor_code) as resolved_vendor_code,
        case
            when versioned.vendor_code is null then the_only_vendor.sage_customer_account
            else vendor_codes.sage_customer_account
        end as sage_customer_account
    from versioned
    cross join the_only_vendor
    left join vendor_codes on versioned.vendor_code = vendor_codes.vendor_code
),

final as (
    select
        resolved.remittance_version_id,
        resolved.payment_number,
        resolved.content_sha256,
        resolved.version_number,
        resolved.version_number = resolved.version_count as is_latest_version,
        resolved.resolved_vendor_code as vendor_code,
        resolved.payment_date,
        resolved.currency,
        resolved.source_format,
        resolved.source_file,
        resolved.received_at,
        resolved.net_amount as stated_net_amount,
        coalesce(line_totals.lines_paid_amount, 0) as lines_paid_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        resolved.sage_customer_account,
        customers.customer_id
    from resolved
    left join line_totals on resolved.remittance_version_id = line_totals.remittance_version_id
    left join customers on resolved.sage_customer_account = customers.customer_reference
)

select * from final
