"""`cif normalize` (being written)."""
