"""Admin for chats: filters, transcript, usage per chat, cancel, and workflow bundle load errors."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatSession, UsageRecord


class UsageInline(admin.TabularInline):
    """The LLM calls of one chat (read-only)."""

    model = UsageRecord
    extra = 0
    can_delete = False
    fields = ["created_at", "agent", "model", "prompt_tokens", "completion_tokens", "total_tokens"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    """Chats with status/workflow/user/date filters, a transcript view and a cancel action."""

    list_display = ["chat_id", "workflow", "user", "organization", "status", "last_seq", "created_at",
                    "transcript_link"]
    list_filter = ["status", "workflow", "created_at", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["chat_id", "workflow", "user__email", "title"]
    date_hierarchy = "created_at"
    actions = ["cancel_chats"]
    inlines = [UsageInline]
    # Everything the runtime maintains is read-only: editing the run claim (its lock token), the
    # runner or the seq would let an operator break a live run. Title and deletion stay editable.
    readonly_fields = ["chat_id", "app_id", "workflow", "user", "organization", "status", "last_seq", "cache_seed",
                       "last_artifact", "error_code", "runner", "run_claim", "heartbeat_at", "last_activity_at",
                       "created_at", "updated_at", "total_tokens", "transcript_link"]
    exclude = ["messages", "client_request_id"]
    change_list_template = "admin/mozaiks_runtime/chatsession/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        extra = [path("<int:pk>/transcript/", self.admin_site.admin_view(self.transcript_view),
                      name="mozaiks_runtime_chatsession_transcript")]
        return extra + super().get_urls()

    @admin.display(description="Transcript")
    def transcript_link(self, obj: ChatSession) -> str:
        url = reverse("admin:mozaiks_runtime_chatsession_transcript", args=[obj.pk])
        return format_html('<a href="{}">transcript ({} events)</a>', url, obj.last_seq + 1)

    @admin.display(description="Total tokens")
    def total_tokens(self, obj: ChatSession) -> int:
        return obj.usage_records.aggregate(total=Sum("total_tokens"))["total"] or 0

    @admin.action(description="Cancel the selected chats (runs stop at their next step)")
    def cancel_chats(self, request: HttpRequest, queryset: QuerySet[ChatSession]) -> None:
        cancelled = sum(1 for chat in queryset if services.cancel_chat(chat))
        skipped = queryset.count() - cancelled
        self.message_user(request, f"Cancelled {cancelled} chat(s); {skipped} had already ended.", messages.SUCCESS)

    def transcript_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every stored event of the chat, in seq order, with the chat's usage."""
        chat = get_object_or_404(ChatSession.objects.select_related("user", "organization"), pk=pk)
        if not self.has_view_permission(request, chat):
            return HttpResponse(status=403)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "chat": chat,
            "title": f"Transcript of {chat.workflow} chat {chat.chat_id}",
            "events": chat.events.order_by("seq"),
            "usage": chat.usage_records.order_by("created_at"),
            "usage_total": chat.usage_records.aggregate(total=Sum("total_tokens"))["total"] or 0,
        }
        return TemplateResponse(request, "admin/mozaiks_runtime/chatsession/transcript.html", context)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The list, headed by the workflow bundles that failed to load (they cannot be started)."""
        try:
            errors = services.bundle_errors()
        except Exception as error:  # the loader itself failing must not hide the chat list
            errors = {"(loader)": [str(error)]}
        return super().changelist_view(request, {**(extra_context or {}), "bundle_errors": errors})


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    """One row per LLM call, for audits and disputes."""

    list_display = ["created_at", "organization", "user", "workflow", "agent", "model", "total_tokens"]
    list_filter = ["workflow", "model", "created_at"]
    search_fields = ["chat__chat_id", "user__email", "transaction_id"]
    readonly_fields = ["chat", "agent", "model", "prompt_tokens", "completion_tokens", "total_tokens", "workflow",
                       "user", "organization", "transaction_id", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
