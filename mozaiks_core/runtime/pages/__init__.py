"""The chat pages (``/chat/``): server-rendered shell + plain ES modules, no build step."""
