"""Period closings (clôture) and the bounds of a transaction's effective date.

A currency's operator closes its books through a past date; from then on no transaction
touching the currency may be dated on or before it (the database refuses it too), and a
FEC of a closed, fully sealed period is final. A transaction's effective date is also never
after today (UTC) nor older than the currency's backdating window (``max_backdating_days``).
"""
