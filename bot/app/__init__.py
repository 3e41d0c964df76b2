"""The Chorus bot itself: wiring (setup_hook, close), health and metrics."""
