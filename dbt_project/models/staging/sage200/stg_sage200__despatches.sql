with

source as (
    select * from {{ source('raw_sage200', 'sop_despatch_receipts') }}
),

renamed as (
    select
        ---------- ids
        id as despatch_id,

        ---------- strings
        despatch_no as despatch_number,
        despatched_by,
        courier_name,
        consignment_no as consignment_number,
        sop_incoterm_name as incoterm,
        sop_export_reason_name as export_reason,
        notes as despatch_notes,

        ---------- numerics
        pieces,
        weight,

        ---------- dates
        cast(despatch_date as timestamptz) as despatch_date,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
