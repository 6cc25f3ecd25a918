{#- Every group's signed amounts add up to zero (a balanced journal, a cleared clearing account). -#}
{% test sums_to_zero(model, column_name, group_by) %}
select {{ group_by }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by }}
having sum({{ column_name }}) <> 0
{% endtest %}
