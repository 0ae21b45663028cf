"""Example module: notes per organization. Copy it to start your own."""
