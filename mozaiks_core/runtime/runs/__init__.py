"""Workflow runs: executing a claimed chat, the event writer, executors, budgets, answers, heartbeats.

Implements the engine's ``RunHooks``. May import ``engine/``, ``bundles/``, ``protocol/``, ``models``
and ``mozaiks_core.db``; never the app's face (``services``, ``tasks``) or ``transport/``.
"""
