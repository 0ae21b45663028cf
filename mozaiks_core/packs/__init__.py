"""First-party capability packs: notifications and audit (each a module and a Django app)."""
