-- Sage sales invoices a remittance line can pay, with the Amazon PO each one invoices: the PO of the SOP
-- invoice (the order's customer document number), else the posted invoice's second reference, where Sage's
-- SOP invoicing writes it. Only the customers a vendor code invoices are candidates.

with

vendor_customers as (
    select distinct customers.customer_id
    from {{ ref('stg_app__vendor_codes') }} as vendor_codes
    inner join {{ ref('stg_sage200__customers') }} as customers
        on vendor_codes.sage_customer_account = customers.customer_reference
),

invoices as (
    select transactions.*
    from {{ ref('stg_sage200__sales_transactions') }} as transactions
    inner join vendor_customers on transactions.customer_id = vendor_customers.customer_id
    where transactions.transaction_type = 'invoice'
),

-- One invoice may cover several orders (one row each): the first PO stands for it.
order_invoices as (
    select
        customer_id,
        invoice_credit_number,
        min(customer_order_number) as purchase_order_number
    from {{ ref('stg_sage200__order_invoices') }}
    where invoice_credit_type = 'Invoice'
    group by customer_id, invoice_credit_number
),

final as (
    select
        invoices.sales_transaction_id,
        invoices.customer_id,
        invoices.sales_transaction_reference as invoice_reference,
        {{ normalised_reference('invoices.sales_transaction_reference') }} as normalised_reference,
        coalesce(order_invoices.purchase_order_number, nullif(invoices.second_reference, '')) as purchase_order_number,
        invoices.signed_gross_value as gross_amount,
        invoices.signed_outstanding_value as outstanding_amount,
        cast(timezone('UTC', invoices.transaction_date) as date) as invoice_date
    from invoices
    left join order_invoices
        on invoices.customer_id = order_invoices.customer_id
        and invoices.sales_transaction_reference = order_invoices.invoice_credit_number
)

select * from final
