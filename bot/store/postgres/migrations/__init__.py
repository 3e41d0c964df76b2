"""Versioned SQL migrations of the PostgreSQL backend (VNNN__name.sql), applied in order under an advisory lock."""
