"""Handler of the notes module: one method per action of module.yaml."""

from typing import Any

from mozaiks_core.plugins.context import ModuleContext

from ..models import Note


class NotesHandler:
    """List and add the caller organization's notes."""

    def list_notes(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """A page of notes, newest first."""
        notes = Note.objects.filter(organization=ctx.organization)
        page, size = data.get("page", 1), data.get("page_size", 20)
        items = [{"id": note.pk, "text": note.text} for note in notes[(page - 1) * size: page * size]]
        return {"items": items, "total": notes.count()}

    def add_note(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Add a note and publish domain.notes.note_added."""
        note = Note.objects.create(organization=ctx.organization, text=data["text"])
        ctx.publish("note_added", {"note_id": note.pk}, subject=note)
        return {"id": note.pk, "text": note.text}
