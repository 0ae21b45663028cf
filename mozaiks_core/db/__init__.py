"""Database helpers every app may use: plain SQL for hot writes, async calls, SQLite checkpoints.

``fast_sql`` (batched INSERT/UPDATE without the ORM's per-object cost), ``async_db`` (database
calls from async code without a health check per call), ``sqlite_checkpoints`` (WAL checkpoints
off the event loop). Imports only Django.
"""
