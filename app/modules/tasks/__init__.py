"""Demo module: a task list per organization."""
