-- The Sage banks a remittance passes through, from the business configuration: the Amazon clearing bank every
-- document posts through, and where the net goes (the real bank, or the cash-in-transit bank when
-- banks.use_in_transit). One row.

with

banks as (
    select
        {{ business_setting('banks.clearing', 'varchar') }} as clearing_bank,
        case
            when coalesce({{ business_setting('banks.use_in_transit', 'boolean') }}, false)
                then {{ business_setting('banks.in_transit', 'varchar') }}
            else {{ business_setting('banks.real', 'varchar') }}
        end as destination_bank
)

select * from banks
