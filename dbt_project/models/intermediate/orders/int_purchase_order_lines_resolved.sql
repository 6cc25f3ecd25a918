{{ config(materialized='table') }}
-- A table, not a view: it reads only Amazon and Sage data (no audit rows), and every model and test over
-- the order lines reads it, so it is computed once per build instead of once per reader.
-- Each line of the latest version of each PO, resolved to one Sage product and one Sage selling unit, or
-- the reason it cannot be. Sage 200 is the master of products and units: a line is never matched by
-- guesswork, so no candidate or more than one is an answer in itself (resolution_status), as is a unit
-- size Sage does not know or a quantity that is not a whole number of the selling unit.

with

latest_orders as (
    select
        purchase_order_version_id,
        po_number,
        vendor_code
    from {{ ref('int_purchase_orders_versioned') }}
    where is_latest_version
),

lines as (
    select
        lines.*,
        latest_orders.vendor_code
    from {{ ref('stg_amazon__purchase_order_lines') }} as lines
    inner join latest_orders on lines.purchase_order_version_id = latest_orders.purchase_order_version_id
),

identifiers as (
    select identifiers.*
    from {{ ref('stg_amazon__purchase_order_line_identifiers') }} as identifiers
    inner join latest_orders on identifiers.purchase_order_version_id = latest_orders.purchase_order_version_id
),

products as (
    select * from {{ ref('stg_sage200__products') }}
),

product_units as (
    select
        product_units.product_id,
        product_units.unit_id,
        units.unit_name,
        product_units.unit_type,
        product_units.multiple_of_base_unit
    from {{ ref('stg_sage200__product_units') }} as product_units
    inner join {{ ref('stg_sage200__units') }} as units on product_units.unit_id = units.unit_id
),

cross_references as (
    select * from {{ ref('sku_cross_reference') }}
),

-- Barcodes: EAN/UPC/ISBN and the shipping-container codes. GTINs compare without their leading zeros, so
-- a UPC-12 finds the EAN-13 Sage stores with a 0 in front.
barcode_candidates as (
    select
        identifiers.purchase_order_version_id,
        identifiers.line_number,
        products.product_id
    from identifiers
    inner join products
        on ltrim(identifiers.identifier_value, '0') = ltrim(products.barcode, '0')
    where identifiers.identifier_qualifier in ('EN', 'UP', 'UK', 'UA', 'IB')
        and products.barcode <> ''
),

-- The vendor's own item number (X12 VN, EDIFACT SA) is the Sage product code.
code_candidates as (
    select
        identifiers.purchase_order_version_id,
        identifiers.line_number,
        products.product_id
    from identifiers
    inner join products on identifiers.identifier_value = products.product_code
    where identifiers.identifier_qualifier in ('VN', 'SA', 'VP')
),

-- Anything operations mapped by hand (an ASIN, an old barcode), whatever its qualifier.
cross_reference_candidates as (
    select
        identifiers.purchase_order_version_id,
        identifiers.line_number,
        products.product_id
    from identifiers
    inner join cross_references on identifiers.identifier_value = cross_references.amazon_identifier
    inner join products on cross_references.sage_product_code = products.product_code
),

candidates as (
    select * from barcode_candidates
    union
    select * from code_candidates
    union
    select * from cross_reference_candidates
),

matches as (
    select
        purchase_order_version_id,
        line_number,
        count(*) as candidate_count,
        min(product_id) as product_id
    from candidates
    group by purchase_order_version_id, line_number
),

-- A product's "case": its one unit of more than one base unit. With none, or several, a PO in cases must
-- say its unit size itself.
case_units as (
    select
        product_id,
        count(*) as case_unit_count,
        min(multiple_of_base_unit) as case_size
    from product_units
    where multiple_of_base_unit > 1
    group by product_id
),

stock_units as (
    select
        products.product_id,
        product_units.multiple_of_base_unit as stock_unit_multiple
    from products
    inner join product_units
        on products.product_id = product_units.product_id
        and products.stock_unit_id = product_units.unit_id
),

amazon_customers as (
    select
        vendor_codes.vendor_code,
        customers.customer_id,
        customers.price_band_id
    from {{ ref('stg_app__vendor_codes') }} as vendor_codes
    inner join {{ ref('stg_sage200__customers') }} as customers
        on vendor_codes.sage_customer_account = customers.customer_reference
),

standard_band as (
    select price_band_id from {{ ref('stg_sage200__price_bands') }} where is_standard_band
),

-- Sage's price for the vendor code's customer: its price band, or the standard band when it has none.
amazon_prices as (
    select
        amazon_customers.vendor_code,
        prices.product_id,
        prices.price_per_stock_unit
    from amazon_customers
    inner join {{ ref('stg_sage200__product_prices') }} as prices
        on prices.price_band_id = coalesce(amazon_customers.price_band_id, (select min(price_band_id) from standard_band))
),

with_product as (
    select
        lines.*,
        -- X12 CA/EA, EDIFACT CS/PCE (UN/ECE Rec. 20), SP-API Cases/Eaches (its sandbox writes CASES).
        case
            when upper(lines.unit_of_measure) in ('CA', 'CS', 'CT', 'CASES') then 'case'
            when upper(lines.unit_of_measure) in ('EA', 'PCE', 'PC', 'EACH', 'EACHES') then 'each'
        end as ordered_unit,
        coalesce(matches.candidate_count, 0) as product_candidate_count,
        case when matches.candidate_count = 1 then matches.product_id end as product_id
    from lines
    left join matches
        on lines.purchase_order_version_id = matches.purchase_order_version_id
        and lines.line_number = matches.line_number
),

with_unit_size as (
    select
        with_product.*,
        case
            when with_product.ordered_unit = 'each' then cast(1 as decimal(18, 5))
            when with_product.ordered_unit = 'case' then coalesce(
                with_product.unit_size,
                case when case_units.case_unit_count = 1 then cast(case_units.case_size as decimal(18, 5)) end
            )
        end as effective_unit_size
    from with_product
    left join case_units on with_product.product_id = case_units.product_id
),

-- The Sage unit Amazon's unit is: the unit whose multiple is the unit size (the base unit for eaches).
selling_units as (
    select
        with_unit_size.purchase_order_version_id,
        with_unit_size.line_number,
        product_units.unit_id,
        product_units.unit_name,
        product_units.multiple_of_base_unit
    from with_unit_size
    inner join product_units
        on with_unit_size.product_id = product_units.product_id
        and with_unit_size.effective_unit_size = product_units.multiple_of_base_unit
    qualify row_number() over (
        partition by with_unit_size.purchase_order_version_id, with_unit_size.line_number
        order by product_units.unit_type = 'Base' desc, product_units.unit_id
    ) = 1
),

resolved as (
    select
        with_unit_size.*,
        products.product_code,
        products.product_name,
        products.product_status_type,
        products.is_sales_order_allowed,
        selling_units.unit_id as selling_unit_id,
        selling_units.unit_name as selling_unit_name,
        selling_units.multiple_of_base_unit as selling_unit_multiple,
        stock_units.stock_unit_multiple,
        with_unit_size.ordered_quantity * with_unit_size.effective_unit_size as ordered_base_quantity,
        amazon_prices.price_per_stock_unit / stock_units.stock_unit_multiple as sage_price_per_each
    from with_unit_size
    left join products on with_unit_size.product_id = products.product_id
    left join selling_units
        on with_unit_size.purchase_order_version_id = selling_units.purchase_order_version_id
        and with_unit_size.line_number = selling_units.line_number
    left join stock_units on with_unit_size.product_id = stock_units.product_id
    left join amazon_prices
        on with_unit_size.vendor_code = amazon_prices.vendor_code
        and with_unit_size.product_id = amazon_prices.product_id
),

final as (
    select
        purchase_order_version_id,
        po_number,
        vendor_code,
        line_number,
        line_id,
        ordered_quantity,
        unit_of_measure,
        ordered_unit,
        effective_unit_size as unit_size,
        ordered_base_quantity,
        unit_price as unit_cost,
        -- What the acknowledgement states and the Sage order charges per each: Amazon's cost; only where the
        -- PO gives none, Sage's Amazon price.
        coalesce(unit_price, cast(round(sage_price_per_each, 2) as decimal(18, 2))) as acknowledged_unit_cost,
        product_candidate_count,
        product_id,
        product_code,
        product_name,
        selling_unit_id,
        selling_unit_name,
        selling_unit_multiple,
        stock_unit_multiple,
        cast(ordered_base_quantity / selling_unit_multiple as decimal(18, 5)) as selling_quantity,
        -- The Sage line's price: the cost per each Amazon will be invoiced at, per selling unit.
        cast(acknowledged_unit_cost * selling_unit_multiple as decimal(18, 2)) as selling_unit_price,
        cast(sage_price_per_each as decimal(18, 5)) as sage_price_per_each,
        cast(round((unit_price - sage_price_per_each) / nullif(sage_price_per_each, 0) * 100, 2) as decimal(9, 2))
            as price_variance_percent,
        case
            -- Amazon cancels an item by ordering none of it: nothing to resolve, nothing to ship.
            when ordered_quantity = 0 then 'cancelled_line'
            when product_candidate_count = 0 then 'unknown_product'
            when product_candidate_count > 1 then 'ambiguous_product'
            when product_status_type <> 'Active' or not is_sales_order_allowed then 'discontinued_product'
            when ordered_unit is null then 'unknown_unit'
            when selling_unit_id is null then 'unit_mismatch'
            when ordered_base_quantity <= 0
                or ordered_base_quantity % selling_unit_multiple <> 0 then 'fractional_quantity'
            else 'resolved'
        end as resolution_status,
        case
            when unit_price is null then 'no_po_price'
            when sage_price_per_each is null then 'no_sage_price'
            when abs(unit_price - sage_price_per_each)
                > sage_price_per_each * {{ business_setting('tolerances.price_tolerance_percent', 'decimal(9, 4)') }} / 100
                then 'outside_tolerance'
            else 'within_tolerance'
        end as price_check
    from resolved
)

select * from final
