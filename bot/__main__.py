"""`python -m bot`: settings → logging → run. Bad configuration prints one line per problem and exits 2."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.app.chorus import Chorus

log = logging.getLogger("bot")


def main() -> int:
    """Load settings (exit 2 with one line per problem), set up logging, run the bot; return the exit code."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print("Chorus cannot start; fix these settings (environment variables or .env):", file=sys.stderr)  # noqa: T201
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)  # noqa: T201
        return 2
    secrets = [settings.discord_token.get_secret_value(), settings.cometapi_key.get_secret_value()]
    setup_logging(settings.log_level, secrets)
    return asyncio.run(run(settings))


async def run(settings: Settings) -> int:
    # Imported here so a configuration error is reported without loading discord.py.
    """Run the bot until it is stopped (SIGTERM/SIGINT shut it down gracefully); return the exit code."""
    import discord

    from bot.app.chorus import Chorus

    async with Chorus(settings) as bot:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Graceful: stop taking commands, let the poll cycle finish, close HTTP and the database.
            loop.add_signal_handler(signum, _shutdown, bot, signum)
        try:
            await bot.start(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            log.error("Discord refused DISCORD_TOKEN: check the bot token in the developer portal")
            return 1
        except discord.PrivilegedIntentsRequired:
            log.error("Discord refused the gateway intents this bot asked for")
            return 1
    return 0


def _shutdown(bot: Chorus, signum: int) -> None:
    log.info("received %s", signal.Signals(signum).name)
    task = asyncio.get_running_loop().create_task(bot.close())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


if __name__ == "__main__":
    sys.exit(main())
