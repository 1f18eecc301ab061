"""Storage: the schema, the database engine and the migrations. Both SQLite and PostgreSQL."""
