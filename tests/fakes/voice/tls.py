"""A throwaway certificate authority for the fake voice gateway's TLS (``wss://127.0.0.1:<port>/?v=8``).

discord.py builds the voice websocket URL as ``wss://{endpoint}/?v=8`` and opens it with its HTTP session's
``ws_connect``: aiohttp's default connector, verifying certificates against the default trust store. The bot
must therefore trust our CA, without patching anything in ``bot/``:

- a bot in a subprocess: start it with :meth:`LoopbackCA.env` (``SSL_CERT_FILE`` names our CA file, which
  OpenSSL reads when aiohttp builds its default context at import);
- a bot in the test's process (the harness's way): :meth:`LoopbackCA.trust_in_process` adds the CA to the
  verifying context aiohttp already built at import, the in-process equivalent of ``SSL_CERT_FILE``.

One CA per test process (:func:`shared_ca`): trust added to a process cannot be taken back, so it is added once,
for a key that exists only in this process's memory and signs only certificates for 127.0.0.1.
"""

from __future__ import annotations

import functools
import ssl
import tempfile
from pathlib import Path

import trustme

LOOPBACK = "127.0.0.1"


class LoopbackCA:
    """A CA generated at test time plus one server certificate for 127.0.0.1 (an IP subjectAltName)."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="Chorus tests", organization_unit_name="fake Discord voice")
        self._leaf = self._ca.issue_cert(LOOPBACK)
        self._dir = tempfile.TemporaryDirectory(prefix="chorus-voice-ca-")
        self.ca_file = Path(self._dir.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self._trusted = False

    def server_context(self) -> ssl.SSLContext:
        """What the fake voice gateway listens with."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._leaf.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this CA (for a connector of a test's own)."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def env(self) -> dict[str, str]:
        """Environment for a bot in a subprocess: OpenSSL's default verify file is our CA."""
        return {"SSL_CERT_FILE": str(self.ca_file)}

    def trust_in_process(self) -> None:
        """Make every aiohttp session in this process (discord.py's included) trust the CA; idempotent."""
        if self._trusted:
            return
        from aiohttp import connector  # the default verifying context it made at import; see the module docstring

        verified = getattr(connector, "_SSL_CONTEXT_VERIFIED", None)
        if not isinstance(verified, ssl.SSLContext):
            raise RuntimeError(
                "this aiohttp has no default verifying SSL context to add the test CA to; "
                "run the bot in a subprocess with LoopbackCA.env() instead"
            )
        self._ca.configure_trust(verified)
        self._trusted = True


@functools.cache
def shared_ca() -> LoopbackCA:
    """The test process's one CA (see the module docstring for why there is only one)."""
    return LoopbackCA()
