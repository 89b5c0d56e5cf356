"""Account authority: who may take money out of an account, and who may read it.

Tenancy (a client's currency binding) says which currency a client works in; it never lets
it debit an account. Money leaves an account only by its holder, a mandate within its
limits, the currency's operator, or with the payer's consent proven in the request (a card
presented, or a payment request the payer's principal accepts, see
`services.ledger.payment_requests`). `service.checks.authorize_debits` is the one check,
called by the posting path (`services.ledger.transactions.service`) for every posting (HTTP
routes and event handlers alike); the database refuses a debit without the authority row
that check writes.
"""
