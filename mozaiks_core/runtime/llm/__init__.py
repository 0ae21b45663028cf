"""Model providers of the engine: the offline ``scripted`` model and ``openai`` (or compatible servers)."""
