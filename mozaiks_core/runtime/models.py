"""Persistence of the runtime: chat sessions, their numbered events, pending requests and usage.

A chat's events are its source of truth: every frame a socket receives with a ``seq`` is a
:class:`ChatEvent` row committed before delivery, so a reconnecting client can replay exactly
what it missed. ``chat.print`` deltas are delivered but never stored.
"""

from __future__ import annotations

import random
import time
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_chat_id() -> str:
    """A fresh, unguessable chat id (32 hex characters)."""
    return uuid.uuid4().hex


def new_event_id() -> str:
    """A fresh event id (32 hex characters): the time in nanoseconds, then 64 random bits.

    Ids that grow with time go to the end of the ``event_id`` index: a batch of events dirties
    one or two of its pages instead of one page per event (random ids made the index most of
    what a commit wrote). The random part comes from :mod:`random` (reseeded in every forked
    child), not ``os.urandom``: an event id is not a secret, and ``os.urandom`` gives up the GIL
    for its system call, so on a busy event loop each id waited for the GIL to come back
    (16 µs per id under load, as much as the rest of the event's bookkeeping).
    """
    return f"{time.time_ns():016x}{random.getrandbits(64):016x}"


class ChatSession(models.Model):
    """One chat: a workflow run (or a series of runs resumed from the same history) for one user."""

    class Status(models.TextChoices):
        CREATED = "created", "Created (not started)"
        RUNNING = "running", "Running"
        WAITING_INPUT = "waiting_input", "Waiting for input"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted (resumable)"

    ACTIVE_STATUSES = (Status.RUNNING, Status.WAITING_INPUT)
    STARTABLE_STATUSES = (Status.CREATED, Status.INTERRUPTED, Status.COMPLETED, Status.FAILED)

    chat_id = models.CharField(max_length=64, unique=True, default=new_chat_id, editable=False)
    app_id = models.CharField(max_length=120)
    workflow = models.CharField(max_length=120)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions")
    organization = models.ForeignKey(
        "mozaiks_auth.Organization", on_delete=models.CASCADE, related_name="chat_sessions"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    title = models.CharField(max_length=200, blank=True)
    client_request_id = models.CharField(max_length=100, blank=True)
    cache_seed = models.BigIntegerField(default=0)
    last_seq = models.BigIntegerField(default=-1, help_text="Highest committed event seq (-1: none yet).")
    last_artifact = models.JSONField(null=True, blank=True, help_text="The last UI tool shown as an artifact.")
    messages = models.JSONField(default=list, blank=True, help_text="AG2 message history, for resume.")
    error_code = models.CharField(max_length=64, blank=True)
    runner = models.CharField(max_length=120, blank=True, help_text="The process holding the current run.")
    run_claim = models.CharField(
        max_length=32, blank=True, default="",
        help_text="The claim of the run holding the chat: a run whose claim this no longer is cannot write.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(
        default=timezone.now, help_text="When the chat last gained an event (heartbeats do not count).")
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by its user: hidden from the history, restorable until purged.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "app_id", "workflow", "status"]),
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["user", "organization", "last_activity_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} chat {self.chat_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        """A run currently holds this chat."""
        return self.status in self.ACTIVE_STATUSES


class ChatEvent(models.Model):
    """One persisted chat event: the frame a socket received, numbered without gaps per chat."""

    # No index of its own: the (chat, seq) unique index starts with the chat and serves every lookup.
    chat = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.BigIntegerField()
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    event_id = models.CharField(max_length=32, unique=True)
    causation_id = models.CharField(max_length=32, blank=True, help_text="The event that caused this one.")
    run_id = models.CharField(max_length=32, blank=True, help_text="The run that produced the event.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["chat_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["chat", "seq"], name="unique_chat_event_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"


class PendingRequest(models.Model):
    """An input request or UI tool the run is blocked on; answered at most once."""

    class Kind(models.TextChoices):
        INPUT = "input", "Input request"
        UI_TOOL = "ui_tool", "UI tool"

    chat = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="pending_requests")
    request_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    seq = models.BigIntegerField(help_text="Seq of the event that asked.")
    frame = models.JSONField(help_text="The frame to re-send after a resume while unanswered.")
    response = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed = models.BooleanField(default=False, help_text="The run that asked ended; no answer is accepted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat_id", "seq"]

    def __str__(self) -> str:
        return f"{self.kind} {self.request_id}"


class UsageRecord(models.Model):
    """Tokens used by one LLM call, attributed to chat, workflow, user and organization."""

    chat = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="usage_records")
    agent = models.CharField(max_length=120)
    model = models.CharField(max_length=120)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    reserved_tokens = models.PositiveIntegerField(default=0, help_text="What admission reserved before the call.")
    workflow = models.CharField(max_length=120)
    plan_id = models.CharField(max_length=80, blank=True, help_text="The organization's plan when the call ran.")
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0,
                               help_text="What the call cost, from the workspace's price table (model_prices.yaml).")
    currency = models.CharField(max_length=3, default="usd")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_usage")
    organization = models.ForeignKey("mozaiks_auth.Organization", on_delete=models.CASCADE, related_name="llm_usage")
    transaction_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.agent} {self.model}: {self.total_tokens} tokens"
