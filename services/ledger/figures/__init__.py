"""Per-currency dashboard figures: circulation, velocity, reconversion leakage."""
