with

source as (
    select * from {{ source('raw_amazon', 'inbound_files') }}
),

renamed as (
    select
        sha256 as file_sha256,
        file_name,
        size_bytes,
        cast(received_at as timestamptz) as received_at,
        cast(processed_at as timestamptz) as processed_at,
        vendor_code,
        format as file_format,
        outcome,
        error_message,
        error_position,
        sets_total,
        sets_quarantined,
        envelope_errors,
        sender_id,
        -- The id Amazon addressed us by: our acknowledgements answer from it.
        receiver_id,
        interchange_control_number
    from source
)

select * from renamed
