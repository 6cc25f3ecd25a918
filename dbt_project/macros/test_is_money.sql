{#- A money column holds pennies exactly: DECIMAL with scale 2, never a float. -#}
{% test is_money(model, column_name) %}
select '{{ column_name }}' as column_name, data_type
from information_schema.columns
where table_schema = '{{ model.schema }}'
  and table_name = '{{ model.identifier }}'
  and column_name = '{{ column_name }}'
  and data_type <> 'DECIMAL(18,2)'
{% endtest %}
