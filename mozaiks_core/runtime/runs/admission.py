"""One run's side of a hard token limit: reservations held for its LLM calls, and its quota figures.

Before each call under a hard limit the run reserves the call's estimate
(:func:`~mozaiks_core.entitlements.services.reserve_llm_tokens`); the call's usage record carries
the reservation, which the meter settles to the real tokens. What a run still holds when it ends
(a call that failed) is given back. The run also keeps the highest token usage it has seen, so
it can stream ``chat.usage_summary`` after every call without a read.
"""

from __future__ import annotations

from typing import Any

from mozaiks_core.db.async_db import db_call
from mozaiks_core.entitlements.services import Reservation, TokenBudget
from mozaiks_core.runtime.runs.config import budget_check_seconds


class TokenAdmission:
    """The reservations and quota figures of one run (calls of a run are sequential)."""

    def __init__(self) -> None:
        self.held: list[int] = []  # tokens reserved for admitted calls not yet recorded, oldest first
        self.plan_id = ""
        self.used: int | None = None  # the token meter's usage as last known (this run's calls included)
        self.limit: int | None = None
        self.refusal = ""  # why the last reservation was refused, in the user's words

    def note(self, used: int | None, limit: int | None, plan_id: str = "") -> None:
        """Take figures from a budget answer or a reservation; a read may predate this run's own calls
        still in the writer, so usage only grows."""
        self.plan_id = plan_id or self.plan_id
        if limit is not None and used is not None:
            self.used, self.limit = max(used, self.used or 0), limit

    def note_budget(self, budget: TokenBudget) -> None:
        """Take the figures of a budget answer."""
        self.note(budget.used, budget.limit, budget.plan_id)

    async def reserve(self, organization: Any, estimate: int) -> bool:
        """Hold ``estimate`` tokens for the next call; False (and :attr:`refusal` set) when they do not fit."""
        from mozaiks_core.entitlements.services import reserve_llm_tokens

        reservation: Reservation = await db_call(reserve_llm_tokens)(
            organization=organization, tokens=estimate, entitlements_max_age=budget_check_seconds())
        self.note(reservation.used, reservation.limit, reservation.plan_id)
        if reservation.granted:
            if reservation.reserved:
                self.held.append(reservation.reserved)
            return True
        self.refusal = (
            f"Your organization's AI tokens for this period are nearly used up: the next step needs up to "
            f"{estimate:,} tokens and {reservation.remaining or 0:,} of {reservation.limit or 0:,} are left. "
            "Upgrade your plan or wait for the next period to continue.")
        return False

    def take_reserved(self) -> int:
        """The reservation of the call being recorded (0 when it reserved nothing)."""
        return self.held.pop(0) if self.held else 0

    async def release_unused(self, organization: Any) -> None:
        """Give back what calls that were never recorded still hold."""
        if not self.held:
            return
        from mozaiks_core.entitlements.services import release_llm_tokens

        held, self.held = sum(self.held), []
        await db_call(release_llm_tokens)(organization=organization, tokens=held)

    def summary_after(self, tokens: int) -> dict[str, Any] | None:
        """The ``chat.usage_summary`` payload after a call of ``tokens`` (None when no limit applies)."""
        from mozaiks_core.entitlements.services import quota_warning_percent, token_meter_key, upgrade_url

        if self.limit is None:
            return None
        used, limit = (self.used or 0) + tokens, self.limit
        self.used = used
        warning = quota_warning_percent()
        state = "limit" if used >= limit else ("warning" if 100 * used >= warning * limit else "ok")
        key = token_meter_key()
        return {"key": key, "used": used, "limit": limit, "remaining": max(limit - used, 0),
                "percent": min(100, round(100 * used / limit)) if limit else 100, "state": state,
                "warning_percent": warning, "upgrade_url": upgrade_url(key)}
