"""Editing a posted message in place: its own components as they are, ready to be changed and sent back."""

from __future__ import annotations

import discord


def post_view(message: discord.Message) -> discord.ui.LayoutView:
    """A post's own components, to edit it in place: its text, files and buttons as they are (each file pointing
    at the attachment it plays, which stays on the message)."""
    view = discord.ui.LayoutView.from_message(message, timeout=None)
    by_url = {attachment.url: attachment.filename for attachment in message.attachments}
    files = [item for item in view.walk_children() if isinstance(item, discord.ui.File)]
    for index, item in enumerate(files):
        url = item.media.url
        if not url.startswith("attachment://"):
            # Discord hands back the uploaded file's URL; an edit must name the attachment instead.
            name = by_url.get(url) or (message.attachments[index].filename if index < len(message.attachments) else "")
            item.media = f"attachment://{name}"
    return view
