-- Every audited event in one place, each with the run and code version that made it and the person who
-- authorised it, so an auditor can start anywhere and follow the trail:
--   sage_posting         a document avc2sage posted to Sage (its last answered record per posting key); a
--                        remittance posting has one row per Amazon remittance line it posts (the receipt,
--                        credit notes and bank entries their own lines, the terms-discount note DS<n> line
--                        n, the allocation and the transfer every line of the payment), with the approval
--                        of the frozen plan it posted from;
--   remittance_approval  a payment plan approved (by a person, or auto);
--   outbound_document    an EDI document written for Amazon;
--   exception_action     what a person did to an exception in the dashboard;
--   month_end_close      a month-end close attempt, with its manifest hash.
-- A posting also names the latest close version covering its month, when one exists.

with

runs as (
    select * from {{ ref('stg_app__runs') }}
),

answered_postings as (
    select *
    from {{ ref('stg_app__sage_postings') }}
    where posting_status in ('posted', 'found', 'found_existing')
    qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
),

plans as (
    select * from {{ ref('stg_app__remittance_plans') }}
),

approvals as (
    select *
    from {{ ref('stg_app__remittance_approvals') }}
    qualify row_number() over (partition by payment_number, plan_sha256 order by sequence_number desc) = 1
),

lines as (
    select * from {{ ref('remittance_lines') }}
),

payments as (
    select payment_number, payment_date from {{ ref('remittance_payments') }}
),

closes as (
    select * from {{ ref('stg_app__month_end_runs') }}
),

latest_closes as (
    select period, close_version, manifest_sha256
    from closes
    where close_status = 'closed'
    qualify row_number() over (partition by period order by close_version desc) = 1
),

-- remittance:<vendor>:<payment>:<document code>; sop_order:<vendor>:<po>
postings as (
    select
        answered_postings.*,
        case when posting_key like 'remittance:%' then split_part(posting_key, ':', 3) end as payment_number,
        case when posting_key like 'remittance:%' then split_part(posting_key, ':', 4) end as document_code,
        case when posting_key like 'sop_order:%' then split_part(posting_key, ':', 3) end as po_number
    from answered_postings
),

posting_events as (
    select
        'sage_posting' as event_type,
        postings.posting_id as event_id,
        postings.recorded_at as event_at,
        coalesce(approvals.approved_by, 'avc2sage') as performed_by,
        postings.run_id,
        postings.sage_resource,
        postings.sage_id,
        postings.sage_reference,
        postings.posting_key,
        postings.posting_status,
        postings.payment_number,
        postings.document_code,
        lines.line_number as remittance_line_number,
        lines.line_kind as remittance_line_kind,
        lines.invoice_number as remittance_invoice_number,
        lines.amount as remittance_line_amount,
        postings.po_number,
        plans.plan_sha256,
        approvals.approved_by,
        approvals.approved_at,
        approvals.approval_channel,
        cast(null as varchar) as document_id,
        cast(null as varchar) as file_name,
        cast(null as varchar) as exception_id,
        cast(null as varchar) as action_kind,
        strftime(payments.payment_date, '%Y-%m') as period,
        latest_closes.close_version,
        latest_closes.manifest_sha256,
        postings.message as detail
    from postings
    left join plans using (payment_number)
    left join approvals
        on postings.payment_number = approvals.payment_number and plans.plan_sha256 = approvals.plan_sha256
    left join lines
        on postings.payment_number = lines.payment_number
        and (
            lines.document_code = postings.document_code
            -- DS<n>: the credit note for the terms discount taken on invoice line n.
            or postings.document_code = 'DS' || lines.line_number
            or postings.document_code in ('AL', 'TR')
        )
    left join payments on postings.payment_number = payments.payment_number
    left join latest_closes on latest_closes.period = strftime(payments.payment_date, '%Y-%m')
),

approval_events as (
    select
        'remittance_approval' as event_type,
        approval_id as event_id,
        approved_at as event_at,
        approved_by as performed_by,
        run_id,
        payment_number,
        plan_sha256,
        approved_by,
        approved_at,
        approval_channel,
        approval_note as detail
    from {{ ref('stg_app__remittance_approvals') }}
),

-- Outbound documents carry no run id of their own: theirs is the latest stage run (not the pass around it)
-- started before the document was written.
stage_runs as (
    select run_id, started_at from runs where job <> 'run'
),

document_events as (
    select
        'outbound_document' as event_type,
        documents.document_id as event_id,
        documents.written_at as event_at,
        'avc2sage' as performed_by,
        stage_runs.run_id,
        documents.document_id,
        documents.file_name,
        documents.document_type || ' to ' || documents.partner as detail
    from {{ ref('stg_app__outbound_documents') }} as documents
    asof left join stage_runs on documents.written_at >= stage_runs.started_at
),

action_events as (
    select
        'exception_action' as event_type,
        action_id as event_id,
        taken_at as event_at,
        taken_by as performed_by,
        run_id,
        exception_id,
        action_kind,
        action_note as detail
    from {{ ref('stg_app__exception_actions') }}
),

close_events as (
    select
        'month_end_close' as event_type,
        close_id as event_id,
        closed_at as event_at,
        closed_by as performed_by,
        run_id,
        period,
        close_version,
        manifest_sha256,
        close_status || coalesce(': ' || close_note, '') as detail
    from closes
),

events as (
    select * from posting_events
    union all by name
    select * from approval_events
    union all by name
    select * from document_events
    union all by name
    select * from action_events
    union all by name
    select * from close_events
),

final as (
    select
        cast(events.event_type as varchar) as event_type,
        cast(events.event_id as varchar) as event_id,
        cast(events.event_at as timestamptz) as event_at,
        cast(events.performed_by as varchar) as performed_by,
        cast(events.run_id as varchar) as run_id,
        cast(runs.job as varchar) as job,
        cast(runs.run_trigger as varchar) as run_trigger,
        cast(runs.code_version as varchar) as code_version,
        cast(events.sage_resource as varchar) as sage_resource,
        cast(events.sage_id as bigint) as sage_id,
        cast(events.sage_reference as varchar) as sage_reference,
        cast(events.posting_key as varchar) as posting_key,
        cast(events.posting_status as varchar) as posting_status,
        cast(events.payment_number as varchar) as payment_number,
        cast(events.document_code as varchar) as document_code,
        cast(events.remittance_line_number as integer) as remittance_line_number,
        cast(events.remittance_line_kind as varchar) as remittance_line_kind,
        cast(events.remittance_invoice_number as varchar) as remittance_invoice_number,
        cast(events.remittance_line_amount as decimal(18, 2)) as remittance_line_amount,
        cast(events.po_number as varchar) as po_number,
        cast(events.plan_sha256 as varchar) as plan_sha256,
        cast(events.approved_by as varchar) as approved_by,
        cast(events.approved_at as timestamptz) as approved_at,
        cast(events.approval_channel as varchar) as approval_channel,
        cast(events.document_id as varchar) as document_id,
        cast(events.file_name as varchar) as file_name,
        cast(events.exception_id as varchar) as exception_id,
        cast(events.action_kind as varchar) as action_kind,
        cast(events.period as varchar) as period,
        cast(events.close_version as integer) as close_version,
        cast(events.manifest_sha256 as varchar) as manifest_sha256,
        cast(events.detail as varchar) as detail
    from events
    left join runs using (run_id)
)

select * from final
