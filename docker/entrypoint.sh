#!/bin/sh
# The image's entrypoint: mozaiks-entrypoint ROLE (web | runs | default | beat | migrate | manage ARGS).
# Waits for the database, migrates once (MOZAIKS_MIGRATE=false skips it), then execs the role's
# Procfile line. See mozaiks_core/entrypoint.py and docs/deployment.md.
set -eu
exec python -m mozaiks_core.entrypoint "$@"
