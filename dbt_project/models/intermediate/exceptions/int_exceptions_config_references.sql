-- A setting in the business configuration that names a Sage customer, bank or nominal code Sage does not
-- have: every posting that would use it is bound to fail, so it is raised before any posting is tried.

with

settings as (
    select * from {{ ref('stg_app__business_settings') }}
    where sage_entity is not null
),

customers as (
    select customer_reference as sage_reference from {{ ref('stg_sage200__customers') }}
),

banks as (
    select bank_code as sage_reference from {{ ref('stg_sage200__banks') }}
),

nominal_codes as (
    select distinct nominal_reference as sage_reference from {{ ref('stg_sage200__nominal_codes') }}
),

known as (
    select 'customer' as sage_entity, sage_reference from customers
    union all
    select 'bank', sage_reference from banks
    union all
    select 'nominal_code', sage_reference from nominal_codes
),

missing as (
    select settings.*
    from settings
    left join known
        on settings.sage_entity = known.sage_entity
        and settings.setting_value = known.sage_reference
    where known.sage_reference is null
),

final as (
    select
        'config_' || sage_entity || '_missing' as kind,
        'configuration' as document_type,
        setting as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'The configuration sets ' || setting || ' = ''' || setting_value || ''', but Sage 200 has no '
            || replace(sage_entity, '_', ' ') || ' ''' || setting_value || '''.' as message
    from missing
)

select * from final
