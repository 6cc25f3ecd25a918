{#- "Now" for deadline logic. A run may pin it (AVC2SAGE_NOW, an ISO timestamp with its offset) so that
    tests and replays see the same deadlines; otherwise it is when dbt started. -#}
{% macro as_of_time() %}
    {%- set pinned = env_var('AVC2SAGE_NOW', '') -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as timestamptz)
    {%- else -%}
        cast('{{ run_started_at }}' as timestamptz)
    {%- endif -%}
{% endmacro %}
