-- Exactly one version of every PO is the latest.
select po_number, count(*) filter (where is_latest_version) as latest_versions
from {{ ref('int_purchase_orders_versioned') }}
group by po_number
having count(*) filter (where is_latest_version) <> 1
