"""Four eyes on large operator acts: an issuance or a reconversion of at least a currency's
``four_eyes_threshold`` waits, recorded, until a second operator of the currency approves
it (then it is posted, with both principals on the transaction) or rejects it. The
database refuses an approval by the operator who asked."""
