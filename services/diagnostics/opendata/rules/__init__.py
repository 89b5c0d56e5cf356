"""Pure rules of the open data: which cells are secret (`suppression`), and the monthly
figures of a currency computed from its transfers (`figures`)."""
