-- Every document we wrote to the outbox (acknowledgements, ASNs, invoices) with what it is about and what
-- Amazon said about it. Documented in docs/warehouse.md.

with

documents as (
    select * from {{ ref('int_outbound_documents_answered') }}
),

final as (
    select
        cast(document_id as varchar) as document_id,
        cast(file_name as varchar) as file_name,
        cast(document_type as varchar) as document_type,
        cast(document_standard as varchar) as standard,
        cast(partner as varchar) as partner,
        cast(interchange_control_number as varchar) as interchange_control_number,
        cast(group_control_number as varchar) as group_control_number,
        cast(message_control_number as varchar) as message_control_number,
        cast(business_reference as varchar) as business_reference,
        cast(written_at as timestamptz) as written_at,
        cast(status as varchar) as status,
        cast(answered_at as timestamptz) as answered_at,
        cast(answer_kind as varchar) as answer_kind,
        cast(answer_errors as varchar) as answer_errors,
        cast(response_due_at as timestamptz) as response_due_at,
        cast(is_overdue as boolean) as is_overdue
    from documents
)

select * from final
