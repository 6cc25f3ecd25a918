{#- One single value of the business configuration (raw_app.business_settings), cast to `data_type`.
    The configuration file is the one place such values are set; the SQL never repeats them. -#}
{% macro business_setting(setting, data_type) %}
    (
        select cast(setting_value as {{ data_type }})
        from {{ ref('stg_app__business_settings') }}
        where setting = '{{ setting }}'
    )
{% endmacro %}
