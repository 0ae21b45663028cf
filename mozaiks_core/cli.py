"""The ``mozaiks`` console script: ``mozaiks startproject NAME [DIRECTORY]``.

It wraps ``django-admin startproject`` with the framework's template and the flags that make it
render every file of the template (not just ``.py``), so nobody has to remember them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "project_template"
RENDERED_EXTENSIONS = "py,toml,md,json,yaml,env"
RENDERED_NAMES = "Makefile"


def startproject_arguments(name: str, directory: str | None) -> list[str]:
    """The exact ``django-admin`` arguments that ``mozaiks startproject`` runs."""
    arguments = ["startproject", name]
    if directory:
        arguments.append(directory)
    arguments += [f"--template={TEMPLATE_DIR}", "-e", RENDERED_EXTENSIONS, "-n", RENDERED_NAMES]
    return arguments


def _source_checkout() -> Path | None:
    checkout = TEMPLATE_DIR.parent.parent
    return checkout if (checkout / "pyproject.toml").exists() and (checkout / "manage.py").exists() else None


def _point_makefile_at_checkout(project_dir: Path) -> None:
    """When the framework runs from a source checkout, generated projects install from it."""
    checkout = _source_checkout()
    makefile = project_dir / "Makefile"
    if checkout is None or not makefile.exists():
        return
    text = makefile.read_text()
    makefile.write_text(text.replace("MOZAIKS_CORE ?= mozaiks-core[dev]", f"MOZAIKS_CORE ?= -e {checkout}[dev]"))


def startproject(name: str, directory: str | None = None) -> Path:
    """Generate a project called ``name`` in ``directory`` (default ``./name``) and return its path."""
    from django.core.management import execute_from_command_line

    target = Path(directory) if directory else Path.cwd() / name
    if directory:
        target.mkdir(parents=True, exist_ok=True)
    arguments = startproject_arguments(name, directory)
    execute_from_command_line(["django-admin", *arguments])
    _point_makefile_at_checkout(target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mozaiks`` console script."""
    parser = argparse.ArgumentParser(prog="mozaiks", description="MozaiksCore for Django.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("startproject", help="create a new MozaiksCore project")
    create.add_argument("name", help="the project's Python package name, e.g. mysite")
    create.add_argument("directory", nargs="?", help="where to create it (default: ./NAME)")
    arguments = parser.parse_args(argv)
    target = startproject(arguments.name, arguments.directory)
    sys.stdout.write(f"Created {arguments.name} in {target}\nNext: cd {target} && make run\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
