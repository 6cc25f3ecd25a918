{#- The company's calendar date at `as_of_time()` (company.timezone; UTC when unset): the day ages, dispute
    windows and month-ends are counted in. -#}
{% macro as_of_date() %}
    cast(timezone(
        coalesce({{ business_setting('company.timezone', 'varchar') }}, 'UTC'), {{ as_of_time() }}
    ) as date)
{% endmacro %}
