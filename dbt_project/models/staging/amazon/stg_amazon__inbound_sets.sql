with

source as (
    select * from {{ source('raw_amazon', 'inbound_sets') }}
),

renamed as (
    select
        file_sha256,
        file_name,
        control_number,
        group_control_number,
        document_type,
        outcome,
        error_message,
        error_position
    from source
)

select * from renamed
