"""The models members can pick and the input limits each accepts (see shared/api/cometapi-music.md §2.0, §5.1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SunoModel:
    """A Suno version as members know it (`v5`) and as the API wants it (`chirp-crow`)."""

    name: str
    mv: str
    max_lyrics: int
    max_tags: int


# Newest first; the first is the default. Limits are the published per-version caps.
SUNO_MODELS: tuple[SunoModel, ...] = (
    SunoModel("v5", "chirp-crow", max_lyrics=5000, max_tags=1000),
    SunoModel("v4.5+", "chirp-bluejay", max_lyrics=5000, max_tags=1000),
    SunoModel("v4.5", "chirp-auk", max_lyrics=5000, max_tags=1000),
    SunoModel("v4", "chirp-v4", max_lyrics=3000, max_tags=200),
    SunoModel("v3.5", "chirp-v3-5", max_lyrics=3000, max_tags=200),
)
DEFAULT_SUNO_MODEL = SUNO_MODELS[0]
# Inspiration-mode descriptions work best short; resellers cap them between 200 and 500 characters.
MAX_SUNO_DESCRIPTION = 500
MAX_TITLE = 80
MAX_LYRICS_PROMPT = 500

UDIO_MODELS: dict[str, str] = {
    "udio32-v1.5": "Udio v1.5, ~32 s clip",
    "udio130-v1.5": "Udio v1.5, ~130 s song",
}
DEFAULT_UDIO_MODEL = "udio32-v1.5"
MAX_UDIO_PROMPT = 1000
MAX_UDIO_LYRICS = 5000


# What a job costs on CometAPI in USD, for /chorus usage's estimate, /chorus balance and credit alerts. CometAPI
# publishes no per-request price for these routes, so the defaults are the open-source relay's code defaults
# (shared/api/cometapi-music.md §4.3): `suno_music` 0.1 per submit/music task, whatever its `task` (songs,
# extensions, covers, stems), and `suno_lyrics` 0.01. Its docs' "0.3" is only a value they suggest setting. Udio has
# no published price at all: assumed like a Suno song. Admins set the real ones with PRICE_PER_SONG,
# PRICE_PER_LYRICS and PRICE_PER_UDIO_SONG.
DEFAULT_SONG_PRICE = 0.1
DEFAULT_LYRICS_PRICE = 0.01
DEFAULT_UDIO_SONG_PRICE = 0.1


@dataclass(frozen=True, slots=True)
class Prices:
    """What one job of each kind costs on CometAPI, in USD (estimates; see the defaults' sources above)."""

    song: float = DEFAULT_SONG_PRICE
    lyrics: float = DEFAULT_LYRICS_PRICE
    udio_song: float = DEFAULT_UDIO_SONG_PRICE

    def of(self, provider: str, action: str) -> float:
        """The price of one job of this provider and action (0 for one we know nothing of)."""
        if provider == "udio":
            return self.udio_song
        if provider == "suno":
            return self.lyrics if action == "LYRICS" else self.song
        return 0.0


def suno_model(name_or_mv: str | None) -> SunoModel | None:
    """Look a Suno model up by friendly name or `mv` value (case-insensitive); None if unknown."""
    if not name_or_mv:
        return DEFAULT_SUNO_MODEL
    wanted = name_or_mv.strip().lower()
    return next((m for m in SUNO_MODELS if wanted in {m.name.lower(), m.mv.lower()}), None)
