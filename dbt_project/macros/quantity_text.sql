{#- A quantity as people write it in a message: 3, 2.5 — not the warehouse's fixed scale (3.00000). -#}
{% macro quantity_text(expression) %}
    (case
        when {{ expression }} is null then 'unknown'
        when {{ expression }} = trunc({{ expression }}) then cast(cast(trunc({{ expression }}) as bigint) as varchar)
        else rtrim(cast({{ expression }} as varchar), '0')
    end)
{% endmacro %}
