"""A deterministic sample vendor: Hartley & Finch Ltd, a UK kitchen and homeware brand selling to Amazon UK
as vendor codes HAFIN (EDIFACT) and HAFIX (X12), and a loader that puts it into the Sage 200 sandbox.

`generate(seed, as_of, scale, out)` writes the scenario; the same inputs always give the same bytes:

    out/sage/masters.json   what the Sage 200 company holds before trading (codes, accounts, products, stock)
    out/sage/history.json   the days before as_of, one event a line: sales orders, despatches, invoices,
                            goods received, period closes
    out/inbox/HAFIN/        what Amazon sent vendor code HAFIN: ORDERS interchanges, remittance exports (CSV, XLSX)
    out/inbox/HAFIX/        what Amazon sent vendor code HAFIX: 850 interchanges, 820s and remittance exports (CSV)
    out/manifest.json       inputs, counts, planted anomalies (kind + document reference), events, and the
                            outcome expected for every line of the planted POs and planted remittances

`load(directory, client, backoffice)` replays those files into a sandbox through the Sage 200 API, using the
sandbox's back office only for what the API cannot do.

Modules: `profile` (who the vendor is), `scales` (how big: a registry of named sizes), `catalogue` (the
product range), `sage_side` (Sage masters and history), `amazon_side` (Amazon's POs and remittances, built
from the same catalogue and history, and the planted anomalies) with `amazon_documents` (how those files are
spelt) and `sage_invoices` (the Sage invoices Amazon pays), `planted` (the products and POs planted for
order-to-cash, with their expected outcomes), `planted_remittances` (the payments planted for remittance
reconciliation, with theirs), `manifest`, `generate`, `load`, plus `identifiers` (EAN-13, ASIN, PO numbers) and
`formats` (how values and files are written).
"""
