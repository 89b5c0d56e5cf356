"""Contract perimeters: versions of the sets of communes a contract covers."""
