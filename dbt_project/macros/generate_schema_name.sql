{#- Schemas are named as configured (staging, intermediate, marts), not prefixed with the target schema:
    analysts and the dashboard query marts.exceptions, not main_marts.exceptions. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
