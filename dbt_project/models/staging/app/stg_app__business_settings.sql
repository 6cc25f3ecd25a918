with

source as (
    select * from {{ source('raw_app', 'business_settings') }}
),

renamed as (
    select
        setting,
        value as setting_value,
        sage_entity,
        config_file
    from source
)

select * from renamed
