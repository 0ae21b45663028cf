"""Authentication overhead: ``GET /api/me`` through each credential, against the session baseline.

    .venv/bin/python benchmarks/auth.py [--requests 2000]

Runs in-process with Django's test client on a temporary SQLite database (or ``DATABASE_URL``).
Prints requests/s and mean latency for session, API key and execution token (HS256 and ES256),
each as a ratio to the session baseline. Target: every credential within 1.5x of the session.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5


def _setup() -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.harness import benchmark_environment

    os.environ.update(benchmark_environment(Path(tempfile.mkdtemp(prefix="mozaiks-bench-auth-")),
                                            os.environ.get("DATABASE_URL")))
    os.environ["LOG_LEVEL"] = "error"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _measure(label: str, client, requests: int, headers: dict[str, str]) -> float:
    client.get("/api/me", **headers)
    started = time.perf_counter()
    for _ in range(requests):
        response = client.get("/api/me", **headers)
        assert response.status_code == 200, (label, response.content)
    elapsed = time.perf_counter() - started
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    _setup()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from mozaiks_core.auth.api_keys import create_api_key
    from mozaiks_core.auth.keys import DEMO_PRIVATE_KEY_PEM
    from mozaiks_core.auth.models import Membership
    from mozaiks_core.auth.services import create_organization
    from mozaiks_core.auth.tokens import issue_execution_token

    settings.ALLOWED_HOSTS = ["testserver"]
    user = get_user_model().objects.create_user(username="bench@example.com", email="bench@example.com")
    team = create_organization(name="Bench", owner=user)
    key = create_api_key(Membership.objects.get(user=user, organization=team), name="bench").secret
    claims = {"user_id": user.pk, "organization_id": team.pk, "app_id": "bench", "chat_id": "c", "workflow": "w"}
    session = Client()
    session.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    rates = {"session": _measure("session", session, args.requests, {})}
    def bearer(label: str, credential: str) -> float:
        return _measure(label, Client(), args.requests, {"HTTP_AUTHORIZATION": f"Bearer {credential}"})

    rates["api key"] = bearer("api key", key)
    rates["execution token HS256"] = bearer("hs256", issue_execution_token(**claims))
    settings.MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY = DEMO_PRIVATE_KEY_PEM
    rates["execution token ES256"] = bearer("es256", issue_execution_token(**claims))

    baseline = rates["session"]
    print(f"GET /api/me, {args.requests} requests each, baseline = session ({settings.DATABASES['default']['ENGINE']})")
    for label, rate in rates.items():
        ratio = baseline / rate
        verdict = "ok" if ratio <= TARGET_RATIO else f"over {TARGET_RATIO}x"
        print(f"  {label:<24} {rate:8.0f} req/s  {1000 / rate:6.2f} ms/req  {ratio:4.2f}x session  {verdict}")


if __name__ == "__main__":
    main()
