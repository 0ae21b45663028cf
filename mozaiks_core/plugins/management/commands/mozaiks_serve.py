"""``python manage.py mozaiks_serve [HOST:PORT]``: the development server, after checking the port is free.

Daphne's ``runserver`` logs CRITICAL and keeps its autoreloader running when the port is taken,
so ``make run`` looked alive while serving nothing. This command refuses at once, naming the
address and the way out.
"""

from __future__ import annotations

import socket
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_ADDRESS = "127.0.0.1:8000"


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``) as a host and a port number; a bad value is a CommandError."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"{address!r} is not HOST:PORT; write e.g. 127.0.0.1:8000 (make run HOST=... PORT=...).")
    return host, int(port)


def port_is_free(host: str, port: int) -> bool:
    """Can a server bind ``host:port`` now?"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    """Run ``runserver`` on a free address, or say which address is taken and what to do."""

    help = "Serve the app for development on HOST:PORT (default 127.0.0.1:8000) if that port is free."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("address", nargs="?", default=DEFAULT_ADDRESS, help="HOST:PORT to listen on")
        parser.add_argument("--check-only", action="store_true", help="only check that the port is free")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_address(options["address"])
        if not port_is_free(host, port):
            raise CommandError(f"Port {port} on {host} is already in use (another server is running there). "
                               f"Stop that server, or pick another port: make run PORT={port + 1}")
        if options["check_only"]:
            self.stdout.write(f"{host}:{port} is free")
            return
        self.stdout.write(f"Serving on http://{host}:{port}/ (sign-in accounts: make demo)")
        call_command("runserver", f"{host}:{port}")
