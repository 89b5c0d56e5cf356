"""Payment requests: the other form of the payer's consent (the first is a card presented).

A payee's holder (or the currency's operator) asks a payer account for an amount; the
payer's principal accepts it, and only then is the transfer posted, as that principal,
through the posting path (`services.ledger.transactions`): the ordinary authority check
applies (the payer's holder, a mandate within its limits, or the operator). A request is
decided once (accepted, declined by the payer side, cancelled by the payee side) and is
worth nothing after its expiry.
"""
