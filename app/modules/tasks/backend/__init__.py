"""Backend code of the tasks module."""
