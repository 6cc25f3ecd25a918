with

source as (
    select * from {{ source('raw_amazon', 'inbound_acknowledgements') }}
),

renamed as (
    select
        -- An answer is its position in the file that carried it: one 997 or 824 answers several documents.
        file_sha256,
        ack_index as answer_index,
        -- The answer's own ST02 / UNH reference.
        control_number as answer_control_number,
        -- 997 / CONTRL (syntax: Amazon could read it) or 824 / APERAK (application: Amazon accepted it).
        kind as answer_kind,
        -- Which document of ours it answers: 997 our ST02 (GS06 for a whole group), CONTRL our UNB, 824 our
        -- ST02 or the business reference (PO, shipment id, invoice number), APERAK our UNH or the DOC number.
        acknowledged_control_number,
        acknowledged_document_type,
        -- accepted, accepted_with_errors or rejected.
        status as answer_status,
        nullif(errors, '') as answer_errors,
        cast(received_at as timestamptz) as received_at
    from source
)

select * from renamed
