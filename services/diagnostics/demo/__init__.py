"""The illustrative demo dataset: its files, its loader, ``POST /admin/demo`` and the CLI."""
