"""What the runtime does when a user's credentials may have died (``auth.liveness.credentials_changed``).

Every open chat socket of the user gets ``credential.recheck`` through the user's channel-layer
group (:func:`~mozaiks_core.runtime.protocol.groups.user_group`), in whichever process it lives,
and checks its own credential again (closing with 4003 when it is dead). A membership that ended
also cancels the chats the former member left open in that organization: their pending requests
close, so no answer is accepted and the organization's quota is not spent on them any more.
"""

from __future__ import annotations

import logging
from typing import Any

from mozaiks_core.auth.liveness import session_fingerprint
from mozaiks_core.runtime import services
from mozaiks_core.runtime.protocol.groups import user_group

logger = logging.getLogger(__name__)


def recheck_message(organization_id: Any, session_key: str = "") -> dict[str, Any]:
    """The channel-layer message that makes a user's sockets re-check their credentials."""
    return {"type": "credential.recheck", "organization_id": None if organization_id is None else str(organization_id),
            "ended_session": session_fingerprint(session_key) if session_key else ""}


def on_credentials_changed(sender: Any, *, user_id: Any, organization_id: Any, reason: str, session_key: str = "",
                           **kwargs: Any) -> None:
    """Receiver of ``credentials_changed``: stop a former member's chats, then have the user's sockets re-check."""
    if reason == "membership_ended":
        try:
            services.stop_member_chats(user_id, organization_id)
        except Exception:
            # The removal has committed; its answer must not turn into a 500. The sockets still re-check
            # below and every answer is refused, so only the stop of the run is lost (logged).
            logger.exception("stopping the chats of user %s in organization %s failed", user_id, organization_id)
    services.publish_to_group(user_group(user_id), recheck_message(organization_id, session_key))
