"""Admin of the plugin host: the outbox, deliveries (retry dead ones), the plugins page and the
review of staged changes (the factory path)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from mozaiks_core.plugins.delivery import retry_delivery
from mozaiks_core.plugins.factory.promotion import PromotionFailed, promote
from mozaiks_core.plugins.factory.staging import ReviewError, approve, file_diff, reject
from mozaiks_core.plugins.models import EventDelivery, OutboxEvent, StagedChange, WorkspaceComponent
from mozaiks_core.plugins.registry import all_problems, broken_modules, get_workspace, loaded_plugins


class DeliveryInline(admin.TabularInline):
    """The deliveries of one event."""

    model = EventDelivery
    extra = 0
    can_delete = False
    fields = ("reaction_key", "reaction_kind", "status", "attempts", "next_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """Every published domain event with its deliveries."""

    list_display = ("occurred_at", "event_type", "organization", "status", "correlation_id")
    list_filter = ("status", "event_type", "module_id")
    search_fields = ("event_id", "event_type", "correlation_id")
    readonly_fields = ("event_id", "event_type", "module_id", "organization", "actor", "subject", "payload",
                       "occurred_at", "correlation_id", "causation_id", "status")
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(admin.ModelAdmin):
    """Deliveries by status; dead and failed ones can be retried."""

    list_display = ("event", "reaction_key", "status", "attempts", "next_attempt_at", "short_error")
    list_filter = ("status", "reaction_kind", "reaction_key")
    search_fields = ("reaction_key", "event__event_id", "last_error")
    readonly_fields = ("event", "reaction_key", "reaction_kind", "status", "attempts", "last_error",
                       "next_attempt_at", "delivered_at", "created_at", "updated_at")
    actions = ["retry"]

    @admin.display(description="last error")
    def short_error(self, delivery: EventDelivery) -> str:
        return delivery.last_error[:120]

    @admin.action(description="Retry selected deliveries now")
    def retry(self, request: HttpRequest, queryset: QuerySet[EventDelivery]) -> None:
        retried = 0
        for delivery in queryset.exclude(status=EventDelivery.Status.DELIVERED).select_related("event"):
            retry_delivery(delivery)
            retried += 1
        self.message_user(request, f"{retried} deliveries queued again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WorkspaceComponent)
class WorkspaceComponentAdmin(admin.ModelAdmin):
    """The plugins page: modules, entry-point plugins and capability packs with version, status, errors."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        workspace = get_workspace()
        broken = broken_modules()
        problems = all_problems()
        modules = [{"id": module.id, "name": module.display_name, "version": module.version, "source": module.source,
                    "status": "error" if module.id in broken else "loaded", "error": broken.get(module.id, ""),
                    "actions": len(module.actions), "reactions": len(module.reactions)}
                   for module in workspace.modules.values()]
        modules += [{"id": module_id, "name": module_id, "version": "", "source": "", "status": "error",
                     "error": reason, "actions": 0, "reactions": 0}
                    for module_id, reason in workspace.failed_modules.items()]
        # private packs show only where they are enabled
        listed_packs = sorted((pack for pack in workspace.packs.values()
                               if pack.visibility != "private" or pack.enabled), key=lambda pack: pack.id)
        context = {
            **self.admin_site.each_context(request), "title": "Modules, plugins and packs",
            "opts": self.model._meta, "workspace": workspace, "modules": modules,
            "plugins": loaded_plugins(), "packs": listed_packs,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/mozaiks_plugins/components.html", {**context, **(extra_context or {})})


@admin.register(StagedChange)
class StagedChangeAdmin(admin.ModelAdmin):
    """Review of the factory path: the per-file diff against the live workspace, approve, reject, promote."""

    list_display = ("id", "label", "status", "origin", "source_pack_id", "created_by", "reviewed_by", "promoted_by",
                    "created_at")
    list_filter = ("status", "origin", "source_pack_id")
    search_fields = ("label", "chat_id")
    readonly_fields = ("label", "origin", "source_pack_id", "chat_id", "status", "created_at", "created_by",
                       "reviewed_by", "reviewed_at", "review_reason", "promoted_by", "promoted_at", "notes",
                       "validation", "diff")
    exclude = ("files", "problems")
    actions = ["approve_changes", "reject_changes", "promote_changes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="validation")
    def validation(self, change: StagedChange) -> str:
        """Every problem of the staged workspace."""
        if not change.problems:
            return "valid, no problems"
        rows = format_html_join("", "<li><strong>{}</strong> [{}] {}{}: {}</li>", (
            (p["level"].upper(), p["code"], p["file"], f":{p['path']}" if p["path"] else "", p["message"])
            for p in change.problems))
        return format_html("<ul>{}</ul>", rows)

    @admin.display(description="diff against the live workspace")
    def diff(self, change: StagedChange) -> str:
        """One section per file: added, modified or unchanged, with the unified diff."""
        sections = []
        for entry in change.files:
            text = file_diff(change, entry["path"]) if entry["change"] != "unchanged" else ""
            sections.append((entry["change"], entry["path"], text))
        return format_html_join("", '<h3>{} <code>{}</code></h3><pre class="mz-diff">{}</pre>', sections)

    def _review(self, request: HttpRequest, queryset: QuerySet[StagedChange], step: str) -> None:
        for change in queryset:
            try:
                if step == "approve":
                    approve(change, request.user)
                elif step == "reject":
                    reject(change, request.user, "rejected in the admin")
                else:
                    promote(change, request.user)
            except (ReviewError, PromotionFailed) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"#{change.pk} {change.label}: {change.status}.", messages.SUCCESS)
            if change.notes and step == "promote":
                self.message_user(request, change.notes, messages.WARNING)

    @admin.action(description="Approve the selected staged changes")
    def approve_changes(self, request: HttpRequest, queryset: QuerySet[StagedChange]) -> None:
        """Approve (only valid staged changes)."""
        self._review(request, queryset, "approve")

    @admin.action(description="Reject the selected staged changes")
    def reject_changes(self, request: HttpRequest, queryset: QuerySet[StagedChange]) -> None:
        """Reject; the live workspace is not touched."""
        self._review(request, queryset, "reject")

    @admin.action(description="Promote the selected approved changes into the live workspace")
    def promote_changes(self, request: HttpRequest, queryset: QuerySet[StagedChange]) -> None:
        """Re-validate and promote atomically, then signal every process to reload."""
        self._review(request, queryset, "promote")
