"""Progress reports of funded projects, and the figures per programme and envelope."""
