"""Container images: the one Dockerfile and `make images`."""
