-- Every document we sent, with what Amazon said about it. Amazon's answers name our documents by control
-- number (997: our ST02, or GS06 for a whole group; CONTRL: our UNB) or, for 824 / APERAK, by our ST02 / UNH
-- or the business reference (PO number, shipment id, invoice number). A document goes sent → acknowledged
-- (997 / CONTRL) → accepted (824 / APERAK) or rejected (any answer); a rejection is final.

with

-- Our own 997 / CONTRL (answers to Amazon's files) are never answered in turn: they wait for nothing.
documents as (
    select
        *,
        document_standard in ('X12', 'EDIFACT') and document_type not in ('997', 'CONTRL') as expects_answer
    from {{ ref('stg_app__outbound_documents') }}
),

-- The reference a person and an 824 / APERAK use: the PO acknowledged, the shipment announced, the invoice.
business_references as (
    select
        document_id,
        po_number as business_reference
    from {{ ref('stg_app__purchase_order_acknowledgements') }}
    union all
    select
        document_id,
        shipment_id as business_reference
    from {{ ref('stg_app__shipment_notices') }}
    where document_id is not null
    union all
    select
        document_id,
        invoice_number as business_reference
    from {{ ref('stg_app__invoice_submissions') }}
    where document_id is not null
),

referenced_documents as (
    select
        documents.*,
        business_references.business_reference
    from documents
    left join business_references on documents.document_id = business_references.document_id
    qualify row_number() over (partition by documents.document_id order by business_references.business_reference) = 1
),

inbound_files as (
    select
        file_sha256,
        sender_id
    from {{ ref('stg_amazon__inbound_files') }}
    qualify row_number() over (partition by file_sha256 order by processed_at) = 1
),

answers as (
    select
        answers.*,
        inbound_files.sender_id
    from {{ ref('stg_amazon__inbound_acknowledgements') }} as answers
    left join inbound_files on answers.file_sha256 = inbound_files.file_sha256
),

-- Control numbers repeat across partners (each has its own series) and a shipment id may be re-sent, so an
-- answer is matched within its sender's documents of the type it names, by its control number first, and
-- among equals to the latest document.
candidates as (
    select
        answers.file_sha256,
        answers.answer_index,
        answers.answer_kind,
        answers.answer_status,
        answers.answer_errors,
        answers.received_at,
        referenced_documents.document_id,
        case
            when answers.answer_kind = 'CONTRL'
                and answers.acknowledged_control_number = referenced_documents.interchange_control_number then 1
            when answers.answer_kind <> 'CONTRL'
                and answers.acknowledged_control_number = referenced_documents.message_control_number then 1
            else 2
        end as match_rank,
        referenced_documents.written_at
    from answers
    inner join referenced_documents
        on referenced_documents.expects_answer
        and referenced_documents.document_standard
            = case when answers.answer_kind in ('997', '824') then 'X12' else 'EDIFACT' end
        and (answers.sender_id is null or answers.sender_id = referenced_documents.partner)
        and (
            answers.acknowledged_document_type is null
            or answers.acknowledged_document_type = referenced_documents.document_type
        )
        and (
            (answers.answer_kind = '997' and answers.acknowledged_control_number in (
                referenced_documents.message_control_number, referenced_documents.group_control_number
            ))
            or (answers.answer_kind = 'CONTRL'
                and answers.acknowledged_control_number = referenced_documents.interchange_control_number)
            or (answers.answer_kind in ('824', 'APERAK') and answers.acknowledged_control_number in (
                referenced_documents.message_control_number, referenced_documents.business_reference
            ))
        )
    qualify row_number() over (
        partition by answers.file_sha256, answers.answer_index
        order by match_rank, referenced_documents.written_at desc, referenced_documents.document_id
    ) = 1
),

-- The answer that decides a document's status: a rejection is final (the first one stands); otherwise an
-- application answer (824 / APERAK) outranks a syntax one (a late 997 does not undo "accepted"), and among
-- answers of one level the latest wins.
deciding_answers as (
    select
        document_id,
        answer_kind,
        answer_status,
        answer_errors,
        received_at as answered_at,
        count(*) over (partition by document_id) as answer_count
    from candidates
    qualify row_number() over (
        partition by document_id
        order by
            answer_status = 'rejected' desc,
            case when answer_status = 'rejected' then received_at end,
            answer_kind in ('824', 'APERAK') desc,
            received_at desc,
            file_sha256 desc,
            answer_index desc
    ) = 1
),

answered as (
    select
        referenced_documents.document_id,
        referenced_documents.file_name,
        referenced_documents.document_type,
        referenced_documents.document_standard,
        referenced_documents.partner,
        referenced_documents.interchange_control_number,
        referenced_documents.group_control_number,
        referenced_documents.message_control_number,
        referenced_documents.business_reference,
        referenced_documents.related_inbound,
        referenced_documents.written_at,
        case
            when deciding_answers.document_id is null then 'sent'
            when deciding_answers.answer_status = 'rejected' then 'rejected'
            when deciding_answers.answer_kind in ('824', 'APERAK') then 'accepted'
            else 'acknowledged'
        end as status,
        deciding_answers.answered_at,
        deciding_answers.answer_kind,
        deciding_answers.answer_status,
        deciding_answers.answer_errors,
        coalesce(deciding_answers.answer_count, 0) as answer_count,
        -- SP-API documents are answered by the transaction status, which is not read yet: no deadline.
        case
            when referenced_documents.expects_answer
                then referenced_documents.written_at + to_hours({{ var('outbound_answer_hours') }})
        end as response_due_at
    from referenced_documents
    left join deciding_answers on referenced_documents.document_id = deciding_answers.document_id
),

final as (
    select
        *,
        coalesce(answer_count = 0 and {{ as_of_time() }} > response_due_at, false) as is_overdue
    from answered
)

select * from final
