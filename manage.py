#!/usr/bin/env python
"""Django's command-line utility for the MozaiksCore project."""

import os
import sys


def main() -> None:
    """Run a management command; configuration errors print one line and exit 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mozaiks_core.settings")
    from django.core.management import execute_from_command_line

    from mozaiks_core.env import run_with_config_errors

    run_with_config_errors(lambda: execute_from_command_line(sys.argv))


if __name__ == "__main__":
    main()
