"""The SQLite registry: the only code that speaks SQL."""
