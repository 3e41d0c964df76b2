"""Chorus: a Discord bot that lets community servers make music together (Suno and Udio via CometAPI)."""
