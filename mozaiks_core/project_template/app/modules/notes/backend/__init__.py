"""Backend code of the notes module."""
