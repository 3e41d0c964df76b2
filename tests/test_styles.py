"""Style suggestions against the simulator through the real client: the cache of Suno's answers is bounded."""

from __future__ import annotations

from bot.core.styles import StyleSuggestions


async def test_the_style_cache_keeps_only_the_most_recently_used(cometapi, simulator):
    """The cache is an LRU of a fixed size: a fourth style pushes out the least recently used one, which is then asked
    for again, while a recently used one is answered from the cache."""
    styles = StyleSuggestions(cometapi, settle=0.0, member_gap=0.0, cache_size=3)
    for member, style in enumerate(("sea shanty", "punk rock", "bossa nova")):
        await styles.suggest(style, member=member)
    await styles.suggest("sea shanty", member=9)  # used again: now the most recent
    await styles.suggest("dream pop", member=10)  # pushes out "punk rock", the least recently used
    assert styles.cache_size == 3
    await styles.suggest("sea shanty", member=11)
    assert simulator.count("tags") == 4
    await styles.suggest("punk rock", member=12)
    assert [r.body["original_tags"] for r in simulator.requests_to("tags")] == [
        "sea shanty", "punk rock", "bossa nova", "dream pop", "punk rock",
    ]
