"""Open-data exports: awarded grants in the national SCDL format."""
