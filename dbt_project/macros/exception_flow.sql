{#- The sync_health flow an exception counts against: its kind's (seed exception_kinds), or, for a document
    Amazon rejected or left unanswered (no flow in the seed), the flow that sent that document. -#}
{% macro exception_flow(kind_flow, document_type) %}
    coalesce(
        {{ kind_flow }},
        case
            when {{ document_type }} in ('855', 'ORDRSP', 'ACKNOWLEDGEMENT') then 'acknowledgements'
            when {{ document_type }} in ('856', 'DESADV', 'SHIPMENT_CONFIRMATION') then 'asns'
            when {{ document_type }} in ('810', 'INVOIC', 'INVOICE') then 'invoices'
            -- our 997 / CONTRL answering one of Amazon's files
            else 'po_intake'
        end
    )
{%- endmacro %}
