{#- products__units comes from reading products with $expand=units, and dlt creates it with the first unit
    it sees; a warehouse loaded before that has no such table. Until it exists the model reads an empty
    stand-in with the raw columns it selects, so the staging layer still builds; the first `dbt build`
    after dlt creates the table reads the real rows. -#}
{%- set product_units = source('raw_sage200', 'products__units') -%}
{%- set is_loaded = relation_exists(product_units) -%}

with

source as (
    {% if is_loaded -%}
    select * from {{ product_units }}
    {%- else -%}
    select
        cast(null as bigint) as id,
        cast(null as bigint) as unit_id,
        cast(null as varchar) as unit_type,
        cast(null as decimal(18, 9)) as multiple_of_base_unit,
        cast(null as decimal(18, 5)) as unit_precision,
        cast(null as boolean) as use_own_price,
        cast(null as boolean) as has_sop_or_pop_documents,
        cast(null as timestamptz) as date_time_created,
        cast(null as timestamptz) as date_time_updated,
        cast(null as varchar) as _dlt_parent_id
    where false
    {%- endif %}
),

-- The one join staging allows: a child row knows its parent only by dlt's row id, so the parent's Sage
-- id is looked up here, once, for every model downstream.
products as (
    select
        _dlt_id,
        id as product_id
    from {{ source('raw_sage200', 'products') }}
),

renamed as (
    select
        ---------- ids
        source.id as product_unit_id,
        products.product_id,
        source.unit_id,

        ---------- strings
        -- Base (the unit stock is counted in) or Additional (a pack of base units).
        source.unit_type,

        ---------- numerics
        -- A ratio, not a quantity: kept at Sage's 9 decimal places so a pack of 3 does not round.
        cast(source.multiple_of_base_unit as decimal(18, 9)) as multiple_of_base_unit,
        cast(source.unit_precision as decimal(18, 5)) as unit_precision,

        ---------- booleans
        source.use_own_price as is_priced_separately,
        source.has_sop_or_pop_documents,

        ---------- timestamps
        cast(source.date_time_created as timestamptz) as created_at,
        cast(source.date_time_updated as timestamptz) as updated_at
    from source
    left join products
        on source._dlt_parent_id = products._dlt_id
)

select * from renamed
