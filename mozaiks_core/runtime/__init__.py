"""The embedded workflow runtime: bundles executed with AG2, streamed over Channels.

Folders, in the order an event travels (each imports only the ones after it, and ``models``):
``transport/`` (the socket) -> the app's face (``services``, ``api``, ``admin``, ``tasks``) ->
``runs/`` (executing, writing, claiming runs) -> ``engine/`` (AG2) -> ``llm/`` -> ``bundles/``
(the workflow format); ``protocol/`` (frames, channel layers) and ``pages/`` stand apart.
``tests/foundation/test_layout.py`` fails on any import circle between two folders.
"""
