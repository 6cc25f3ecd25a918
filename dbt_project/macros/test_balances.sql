{#- Balance identity: for every row (or every group), sum(left) = sum(right) exactly.
    Money is DECIMAL(18,2), so equality is exact; a tolerance would hide lost pennies. -#}
{% test balances(model, left, right, group_by=none) %}
select
    {% if group_by %}{{ group_by }},{% endif %}
    sum({{ left }}) as left_total,
    sum({{ right }}) as right_total
from {{ model }}
{% if group_by %}group by {{ group_by }}{% endif %}
having coalesce(sum({{ left }}), 0) <> coalesce(sum({{ right }}), 0)
{% endtest %}
