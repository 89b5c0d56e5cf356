"""Cards and tokens: a card maps to an account; card payments are a hold or a programme
purchase."""
