"""Use cases of voucher programmes: configuration and credit grants (`credits`), purchases
(`purchases`), expiry sweeps (`sweeps`), euro reimbursements of merchants
(`reimbursements`) and the per-funder report (`report`), over `base`.

They load lots, ask the pure rules (`services.ledger.programmes.rules`) and post ordinary
ledger transactions (so TransactionPosted flows as for any transfer), while ``credit_lots``
and ``lot_draws`` keep the sub-ledger of whose money it is and until when.

Decisions:
- Category caps apply per beneficiary over a window: the calendar month or year (UTC) or the
  whole programme, as the programme says.
- A purchase's category is the one asked, else the merchant account's own category.
- Purchases lock the beneficiary's open lots before checking the cap, so two concurrent
  purchases of one beneficiary cannot both pass it.
- An expiry sweep returns each expired lot's remainder to the funder that granted it (one
  transaction per beneficiary and funder), so the report can say what came back to whom.
"""
