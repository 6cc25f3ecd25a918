"""Amazon remittances into Sage 200: each payment's planned journal posted as Sage documents, exactly once.

dbt plans every payment (`marts.remittance_postings`, `marts.remittance_payments`); this package acts on the
plan: it gates each payment (refused, awaiting approval, approved), freezes the plan it posts from, posts its
documents through the clearing bank one payment at a time, and reads the clearing bank back from Sage to
prove it holds only what is still in flight.

- `plan`: the plan as dbt wrote it or as it was frozen, its checks, and the references each document carries.
- `approval`: approvals (`avc2sage approve`, or automatic) and refusals, in the audit trail.
- `posting`: the Sage body of each step, how each is found again in Sage, and the exactly-once post.
- `reconciliation`: the clearing bank read back from Sage against what was posted.
- `batch`: one run over every payment, and the dry run that prints the plans.
"""
