{#- amount × numerator / denominator rounded to the penny, half away from zero, computed exactly in whole
    pennies: DuckDB divides decimals in floating point, and a VAT split must not lose or invent a penny.
    All three are money-like (at most 2 decimals, a rate such as 20.00 included); the denominator must not
    be zero. -#}
{% macro rounded_share(amount, numerator, denominator) %}
    cast(
        cast(
            sign(({{ amount }})) * sign(({{ numerator }})) * sign(({{ denominator }}))
            * (
                (
                    2 * abs(cast(({{ amount }}) * 100 as hugeint)) * abs(cast(({{ numerator }}) * 100 as hugeint))
                    + abs(cast(({{ denominator }}) * 100 as hugeint))
                ) // (2 * abs(cast(({{ denominator }}) * 100 as hugeint)))
            ) as decimal(18, 0)
        ) * 0.01 as decimal(18, 2)
    )
{% endmacro %}
