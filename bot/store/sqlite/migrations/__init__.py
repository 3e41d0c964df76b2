"""Versioned SQL migrations of the SQLite schema (`V<nnn>__<name>.sql`, applied in order)."""
