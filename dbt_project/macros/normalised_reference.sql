{#- A document reference as remittance matching compares it when the exact text differs: upper case, without
    spaces and the separators - _ / . and without leading zeros ('0000-0014' and '14' are one; 'SI 0014' and
    'SI14' are not: only zeros at the very start go). -#}
{% macro normalised_reference(expression) %}
    ltrim(regexp_replace(upper({{ expression }}), '[\s_/.-]', '', 'g'), '0')
{% endmacro %}
