-- One row per deduction Amazon took: each line that is not an invoice payment, and each terms discount
-- taken on an invoice line. Goods and tax carry the deduction's sign (goods + tax = amount); a deduction
-- split over a root invoice of several VAT rates shows the tax code carrying most of it (the journal has a
-- line per code).

with

parts as (
    select * from {{ ref('int_remittance_deduction_tax_parts') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

deductions as (
    select
        deduction_id,
        payment_number,
        line_number,
        payment_date,
        deduction_date,
        deduction_type,
        reference,
        description,
        amount,
        nominal_code,
        cost_centre,
        department,
        posting_method,
        root_invoice_number,
        root_sales_transaction_id,
        purchase_order_number,
        sum(goods_part) as goods_magnitude,
        sum(tax_part) as tax_magnitude,
        first(tax_code order by gross_part desc, tax_code) as tax_code
    from parts
    group by all
),

final as (
    select
        cast(deductions.deduction_id as varchar) as deduction_id,
        cast(deductions.payment_number as varchar) as payment_number,
        cast(deductions.line_number as integer) as line_number,
        cast(deductions.payment_date as date) as payment_date,
        cast(deductions.deduction_type as varchar) as deduction_type,
        cast(deductions.reference as varchar) as reference,
        cast(deductions.description as varchar) as description,
        cast(deductions.amount as decimal(18, 2)) as amount,
        cast(sign(deductions.amount) * deductions.goods_magnitude as decimal(18, 2)) as goods_amount,
        cast(sign(deductions.amount) * deductions.tax_magnitude as decimal(18, 2)) as tax_amount,
        cast(deductions.tax_code as integer) as tax_code,
        cast(deductions.nominal_code as varchar) as nominal_code,
        cast(deductions.cost_centre as varchar) as cost_centre,
        cast(deductions.department as varchar) as department,
        cast(deductions.posting_method as varchar) as posting_method,
        cast(deductions.root_invoice_number as varchar) as root_invoice_number,
        cast(deductions.root_sales_transaction_id as bigint) as root_sage_transaction_id,
        cast(deductions.purchase_order_number as varchar) as purchase_order_number,
        cast(date_diff('day', deductions.deduction_date, as_of.as_of_date) as integer) as age_days,
        cast(deductions.payment_date + interval 30 day as date) as dispute_deadline,
        as_of.as_of_date <= cast(deductions.payment_date + interval 30 day as date) as dispute_window_open
    from deductions
    cross join as_of
)

select * from final
