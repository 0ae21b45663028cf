"""Running the same database work in several threads at once (race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(index)`` in ``count`` threads released together; re-raise the first failure.

    Each thread closes its own database connection when done (Django opens one per thread).
    """
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
