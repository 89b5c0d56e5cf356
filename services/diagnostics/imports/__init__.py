"""Imports of territories, sectors, perimeters and yearly data: all or nothing, with progress."""
