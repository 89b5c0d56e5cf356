"""Pure rules of the audit: the chain's canonical hash (`chain`) and the journal's export
formats (`journal`)."""
