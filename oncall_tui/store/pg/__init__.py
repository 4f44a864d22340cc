"""The store on PostgreSQL (team mode): the same journal, projections and deliveries.

Nothing here is imported unless a ``postgresql://`` URL is opened
(:func:`oncall_tui.store.db.is_postgres_url`): SQLite users pay nothing for it, neither psycopg
nor the SQL translator.
"""
