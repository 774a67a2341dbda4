"""Where a person's photo is read; the photo itself is made and served by
server/files/avatars.py, and stored as `profile.avatar` (its SHA-256)."""

from __future__ import annotations

import uuid


def avatar_url(profile_id: uuid.UUID | str, avatar: str | None) -> str | None:
    """GET /users/{id}/avatar, versioned by the image's hash so a new photo is a new address;
    None: no photo (the browser shows initials)."""
    if not avatar:
        return None
    return f"/api/v1/users/{profile_id}/avatar?v={avatar[:16]}"
