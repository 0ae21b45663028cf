"""The factory path: builders stage artifacts, the staged workspace is validated as it would be after
promotion, an operator reviews the diff and approves or rejects it, and promotion copies it into
the live workspace atomically, then signals every process to reload.

``artifacts`` reads a folder or an archive safely (no path may leave the root, size caps before
extraction); ``staging`` holds the actions (stage, validate, approve, reject); ``promotion``
applies an approved change with a backup to roll back to. Nothing here writes to
``MOZAIKS_APP_DIR`` except :func:`promotion.promote`.
"""
