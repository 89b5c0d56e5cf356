"""Committee sessions: agenda, attendance, conflicts of interest, votes, decisions."""
