{#- Whether a relation exists in the warehouse yet. dlt creates a child table only with its first row, so
    staging models over child tables read an empty stand-in until then. -#}
{% macro relation_exists(relation) %}
    {{ return(execute and adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    ) is not none) }}
{% endmacro %}
