"""The trial store: tables, migrations, repositories and the audit trail."""
