{#- Every row satisfies `expression` (a rule of the row itself, such as "one of debit and credit is zero"). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
