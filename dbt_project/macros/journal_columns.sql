{#- The columns of a remittance journal row, typed as marts.remittance_postings' contract gives them: the plan
    computed now and the plan frozen when posting started are the same shape. -#}
{% macro journal_columns() %}
        cast(payment_number as varchar) as payment_number,
        cast(step_sequence as integer) as step_sequence,
        cast(step as varchar) as step,
        cast(document_code as varchar) as document_code,
        cast(line_number as integer) as line_number,
        cast(account_type as varchar) as account_type,
        cast(account_code as varchar) as account_code,
        cast(cost_centre as varchar) as cost_centre,
        cast(department as varchar) as department,
        cast(tax_code as integer) as tax_code,
        cast(sage_transaction_id as bigint) as sage_transaction_id,
        cast(applied_document_code as varchar) as applied_document_code,
        cast(debit as decimal(18, 2)) as debit,
        cast(credit as decimal(18, 2)) as credit,
        cast(narrative as varchar) as narrative
{%- endmacro %}
