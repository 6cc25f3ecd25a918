with

source as (
    select * from {{ source('audit', 'sage_postings') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        posting_id,
        -- Deterministic per business step, e.g. sop_order:HAFIN:4KX7PL2Q: the exactly-once key.
        posting_key,
        resource as sage_resource,
        source_version,
        request_sha256,
        status as posting_status,
        sage_id,
        sage_reference,
        message,
        run_id,
        recorded_at
    from source
)

select * from renamed
