"""Pure readers of the official income and capacity files (Filosofi, DGFiP's IRCOM,
INSEE's tourism capacity and census housing) and the residential base built from them."""
