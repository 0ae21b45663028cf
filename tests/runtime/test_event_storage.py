"""How chat events are stored: ids that append to their index, one index per lookup."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from mozaiks_core.runtime.models import ChatEvent, new_event_id


def test_event_ids_are_32_hex_characters_unique_and_growing_with_time():
    ids = [new_event_id() for _ in range(2000)]

    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in ids)
    assert len(set(ids)) == len(ids)
    assert [event_id[:16] for event_id in ids] == sorted(event_id[:16] for event_id in ids)


@pytest.mark.django_db
@pytest.mark.dbmatrix
def test_chat_events_have_one_index_per_lookup_and_none_on_the_chat_alone():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ChatEvent._meta.db_table)
    indexed = [details["columns"] for details in constraints.values() if details["index"] or details["unique"]]

    assert ["chat_id"] not in indexed  # the (chat, seq) index serves lookups by chat
    assert ["chat_id", "seq"] in indexed
    assert ["event_id"] in indexed
