"""What members see of the community features: posts (battles, challenges, song of the day, jams), charts and
profiles, and the Herald that posts what the community timers decide."""
