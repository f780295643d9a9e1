"""Storage: SQLAlchemy models, sessions, migrations, share tokens and retention."""
