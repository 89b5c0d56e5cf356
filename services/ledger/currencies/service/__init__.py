"""Use cases of currencies: the registry of currencies and their rules (`registry`), the
reserve of euro-backed ones (`reserve`), issuance and reconversion (`conversion`), and
the operator acts that may wait for a second operator (`acts`)."""
