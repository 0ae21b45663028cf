"""The notes module's model."""

from django.db import models

from mozaiks_core.auth.models import Organization


class Note(models.Model):
    """A short note of an organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text
