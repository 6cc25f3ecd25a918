{#- audit.outbound_documents is created by the first document the outbox writes; a warehouse that has sent
    nothing yet has no such table. Until it exists the model reads an empty stand-in with the columns it
    selects, so the models over it still build. -#}
{%- set outbound_documents = source('audit', 'outbound_documents') -%}
{%- set is_created = relation_exists(outbound_documents) -%}

with

source as (
    {% if is_created -%}
    select * from {{ outbound_documents }}
    {%- else -%}
    select
        cast(null as varchar) as document_id,
        cast(null as varchar) as file_name,
        cast(null as varchar) as document_type,
        cast(null as varchar) as standard,
        cast(null as varchar) as partner,
        cast(null as json) as control_numbers,
        cast(null as varchar) as sha256,
        cast(null as bigint) as size_bytes,
        cast(null as timestamptz) as written_at,
        cast(null as varchar) as related_inbound
    where false
    {%- endif %}
),

renamed as (
    select
        document_id,
        file_name,
        -- 855 / 856 / 810, ORDRSP / DESADV / INVOIC, or ACKNOWLEDGEMENT / SHIPMENT_CONFIRMATION / INVOICE (API).
        document_type,
        standard as document_standard,
        -- The partner id the document is addressed to (Amazon's id as its own files send it; AMAZON for API).
        partner,
        -- Amazon's answers name our documents by these: X12 {ISA13, GS06, ST02}, EDIFACT {UNB, UNH}, API none.
        coalesce(
            json_extract_string(control_numbers, '$.ISA13'), json_extract_string(control_numbers, '$.UNB')
        ) as interchange_control_number,
        json_extract_string(control_numbers, '$.GS06') as group_control_number,
        coalesce(
            json_extract_string(control_numbers, '$.ST02'), json_extract_string(control_numbers, '$.UNH')
        ) as message_control_number,
        sha256 as file_sha256,
        size_bytes,
        written_at,
        -- The inbound file or business key the document answers (the batches' own idempotency key).
        related_inbound
    from source
)

select * from renamed
