"""Server-rendered pages of the plugin host and the packs, and the admin's plugin pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization, ensure_personal_organization
from mozaiks_core.packs.audit.models import ActivityEntry
from mozaiks_core.packs.notifications.models import Notification
from mozaiks_core.plugins.markdown import render_markdown
from mozaiks_core.plugins.models import EventDelivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner() -> Any:
    return get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")


@pytest.fixture
def client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def test_the_home_page_is_the_demo_landing_page_for_everyone() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Mozaiks Demo</h1>" in html
    assert 'href="/tasks"' in html
    assert '<link rel="icon" href="/brand/assets/favicon.svg">' in html
    assert "--mz-primary: #3b5bdb;" in html


def test_a_private_page_sends_anonymous_visitors_to_sign_in() -> None:
    response = Client().get("/tasks")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/tasks")


def test_a_page_form_shows_errors_by_field_and_saves_valid_input(client: Client) -> None:
    invalid = client.post("/tasks", {"_block": "1", "title": "ab", "notes": "keep me"})
    assert invalid.status_code == 422
    html = invalid.content.decode()
    assert 'id="f1-title-error"' in html
    assert "is too short" in html
    assert "keep me</textarea>" in html
    saved = client.post("/tasks", {"_block": "1", "title": "Plan the launch"}, follow=True)
    assert "Task added." in saved.content.decode()
    assert "Plan the launch" in saved.content.decode()
    assert client.post("/tasks", {"_block": "0"}).status_code == 404


def test_the_markdown_block_escapes_html_and_unsafe_links() -> None:
    html = render_markdown("# Hi <script>alert(1)</script>\n\n[x](javascript:alert(1)) and [ok](https://a.example)")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://a.example">ok</a>' in html


def test_the_notifications_page_lists_marks_read_and_saves_preferences(client: Client, owner: Any) -> None:
    from tests.plugins.test_events import add_teammate

    teammate = Client()
    teammate.force_login(add_teammate(owner))
    teammate.post("/orgs/switch/", {"organization": ensure_personal_organization(owner).slug})
    client.post("/tasks", {"_block": "1", "title": "My own task"})
    teammate.post("/tasks", {"_block": "1", "title": "Plan the launch"})
    page = client.get("/notifications/")
    assert "My own task" not in page.content.decode(), "the owner is not told about what they did"
    assert "New task: Plan the launch" in page.content.decode()
    assert 'aria-label="Notifications, 1 unread"' in page.content.decode()
    client.post("/notifications/", {"all": "1"})
    assert Notification.objects.get(user=owner).read_at is not None
    client.post("/notifications/", {"category": "tasks.created"})
    teammate.post("/tasks", {"_block": "1", "title": "Muted one"})
    assert Notification.objects.filter(user=owner).count() == 1


def test_the_activity_page_is_for_owners_and_admins_of_the_organization(client: Client, owner: Any) -> None:
    client.post("/tasks", {"_block": "1", "title": "Plan the launch"})
    slug = ensure_personal_organization(owner).slug
    page = client.get(f"/organizations/{slug}/activity/?event_type=domain.tasks.task_created")
    assert page.status_code == 200
    assert "domain.tasks.task_created" in page.content.decode()
    assert ActivityEntry.objects.count() == 1

    other = get_user_model().objects.create_user(username="bo", email="bo@example.com", password="pw-123456789")
    team = create_organization(name="Team", owner=other)
    assert client.get(f"/organizations/{team.slug}/activity/").status_code == 404
    Membership.objects.create(user=owner, organization=team, role=Membership.Role.MEMBER)
    assert client.get(f"/organizations/{team.slug}/activity/").status_code == 403


def test_the_admin_lists_modules_plugins_packs_and_retries_dead_deliveries(client: Client, owner: Any) -> None:
    owner.is_staff = owner.is_superuser = True
    owner.save()
    page = client.get("/admin/mozaiks_plugins/workspacecomponent/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Tasks <code>tasks</code>" in html
    assert "Notifications <code>notifications</code>" in html
    assert "enabled" in html

    client.post("/tasks", {"_block": "1", "title": "Plan the launch"})
    delivery = EventDelivery.objects.get(reaction_key="audit.record")
    ActivityEntry.objects.all().delete()
    EventDelivery.objects.filter(pk=delivery.pk).update(status="dead", last_error="ValueError: boom")
    assert client.get("/admin/mozaiks_plugins/eventdelivery/?status__exact=dead").status_code == 200
    client.post("/admin/mozaiks_plugins/eventdelivery/", {"action": "retry", "_selected_action": [delivery.pk]})
    assert EventDelivery.objects.get(pk=delivery.pk).status == "delivered"
    assert ActivityEntry.objects.count() == 1
    assert client.get(f"/admin/mozaiks_plugins/outboxevent/{delivery.event_id}/change/").status_code == 200
    assert client.get("/admin/audit/activityentry/?event_type=domain.tasks.task_created").status_code == 200
    assert client.get("/admin/notifications/notification/").status_code == 200
