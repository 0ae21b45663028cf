"""The chat socket: the WebSocket consumer, inbound frame dispatch, socket authentication, routing.

May import the app's face (``services``), ``protocol/``, ``models`` and ``mozaiks_core.db``;
nothing imports it but the ASGI wiring.
"""
