"""Listening parties on Discord: the host (voice, one party per guild), the now-playing message and its buttons, and
the way a party starts (`/listen`, More → Play in voice). The rules live in bot/core/listening.py."""
