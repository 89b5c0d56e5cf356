"""Income sources of a territory as INSEE and the DGFiP publish them (Filosofi)."""
