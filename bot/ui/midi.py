"""MIDI files from CometAPI's note lists (mido writes the Standard MIDI File; it is the reference library)."""

from __future__ import annotations

import io

import mido

from bot.cometapi import Instrument

TICKS_PER_BEAT = 480
TEMPO = 500_000  # µs per beat: 120 bpm, so a second is exactly two beats


def midi_file(instruments: tuple[Instrument, ...]) -> bytes:
    """A type-1 MIDI file: one track per instrument, notes at the times CometAPI gave (in seconds)."""
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO, time=0)])
    song.tracks.append(conductor)
    for channel, instrument in enumerate(instruments[:15]):
        events: list[tuple[int, int, mido.Message]] = []
        for note in instrument.notes:
            velocity = max(1, min(127, round(note.velocity * 127)))
            pitch = max(0, min(127, note.pitch))
            ch = channel if channel < 9 else channel + 1  # channel 10 (index 9) is for drums
            events.append((_ticks(note.start), 1, mido.Message("note_on", note=pitch, velocity=velocity, channel=ch)))
            events.append((_ticks(note.end), 0, mido.Message("note_off", note=pitch, velocity=0, channel=ch)))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=instrument.name[:60], time=0)])
        now = 0
        for at, _, message in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(message.copy(time=at - now))
            now = at
        song.tracks.append(track)
    out = io.BytesIO()
    song.save(file=out)
    return out.getvalue()


def _ticks(seconds: float) -> int:
    return max(0, round(seconds * 2 * TICKS_PER_BEAT))
