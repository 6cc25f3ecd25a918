-- Amazon files and sets that could not be loaded: each one is a document Amazon believes we have.
-- A file quarantined whole raises one exception; a set quarantined inside an otherwise loaded file raises
-- one per set, so the rest of the file is not blamed.

with

files as (
    select * from {{ ref('stg_amazon__inbound_files') }}
),

sets as (
    select * from {{ ref('stg_amazon__inbound_sets') }}
),

quarantined_files as (
    select
        'inbound_file_quarantined' as kind,
        'inbound_file' as document_type,
        file_name as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'The file ' || file_name || ' (' || coalesce(file_format, 'unknown format') || ') was quarantined: '
            || coalesce(error_message, 'no reason recorded') || ' at ' || coalesce(error_position, 'an unknown position')
            || '.' as message
    from files
    where outcome = 'quarantined'
),

quarantined_sets as (
    select
        'inbound_set_quarantined' as kind,
        sets.document_type as document_type,
        sets.file_name || '#' || sets.control_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'The ' || sets.document_type || ' ' || sets.control_number || ' in ' || sets.file_name
            || ' was quarantined: ' || coalesce(sets.error_message, 'no reason recorded') || ' at '
            || coalesce(sets.error_position, 'an unknown position') || '.' as message
    from sets
    inner join files on sets.file_sha256 = files.file_sha256
    where sets.outcome = 'quarantined' and files.outcome = 'partially_loaded'
),

final as (
    select * from quarantined_files
    union all
    select * from quarantined_sets
)

select * from final
