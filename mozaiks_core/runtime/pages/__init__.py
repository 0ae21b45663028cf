"""The chat pages (``/chat/``): server-rendered shell + plain ES modules, no build step.

Owns the page views and their quota widget. May import the app's face, never ``runs/`` or ``transport/``.
"""
