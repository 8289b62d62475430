"""The domain: `models.core` holds the pure rules (no database, Redis, web or WeChat); the
aggregates `ticket`, `people`, `rating` and `notification` hold their tables, queries and the
one applier of their changes. Import `models.schema` to register every table."""
