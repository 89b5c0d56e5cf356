"""Pure rules of the imports: line-by-line validation of every kind of file."""
