"""Loopback fakes of the services Chorus talks to."""
