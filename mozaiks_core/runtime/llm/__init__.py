"""Model providers of the engine: the offline ``scripted`` model and ``openai`` (or compatible servers).

Owns the model clients and the provider settings. May import ``bundles/`` (a bundle's script); nothing else.
"""
