"""A QQ group bot written with botpy, the official Python SDK, run against qun.

It answers every message that mentions it (GROUP_AT_MESSAGE_CREATE) with a
passive reply: "pong" to "ping", else the text it got.

    python3 bot.py --app-id 102000001 --app-secret ...

The appId and appSecret come from `qun robot create`; --url (QUN_URL) is
qun's public address. See README.md beside this file and docs/quickstart.md.
"""

import argparse
import os
import sys
import time
import urllib.parse

try:
    import aiohttp
    import botpy
    from botpy import logging
    from botpy.http import Route
    from botpy.message import GroupMessage
    from botpy.robot import Token
except ImportError as e:
    # Say what to do instead of a traceback: botpy is the one thing to install.
    raise SystemExit(
        f"botpy-bot: {e}: install botpy first: pip install qq-botpy "
        "(Python 3.8 or newer; see examples/botpy-bot/README.md)"
    )

DEFAULT_URL = "http://127.0.0.1:8080"  # qun serve's public listener

_log = logging.get_logger()


def use_qun(url):
    """Send every request botpy makes to qun at url instead of the QQ platform.

    botpy builds its REST URLs from Route's class attributes, so those are
    set; the gateway URL comes from qun's /gateway/bot. The token URL is
    written into Token.update_access_token, so that one method is replaced
    by the same request to qun.
    """
    parts = urllib.parse.urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SystemExit(f"botpy-bot: --url must be http(s)://host:port, got {url!r}")
    Route.SCHEME = parts.scheme
    Route.DOMAIN = Route.SANDBOX_DOMAIN = parts.netloc + parts.path
    token_url = f"{parts.scheme}://{parts.netloc}{parts.path}/app/getAppAccessToken"

    async def update_access_token(self):
        async with aiohttp.ClientSession() as session:
            async with session.post(
                token_url,
                timeout=aiohttp.ClientTimeout(total=20),
                json={"appId": self.app_id, "clientSecret": self.secret},
            ) as response:
                data = await response.json()
        if "access_token" not in data or "expires_in" not in data:
            raise RuntimeError(f"access token from {token_url}: {data}")
        self.access_token = data["access_token"]
        self.expires_in = int(data["expires_in"]) + int(time.time())

    Token.update_access_token = update_access_token


def reply(text):
    """The bot's answer to text."""
    if text.lower() == "ping":
        return "pong"
    if not text:
        return "Mention me with some text and I say it back."
    return f"you said: {text}"


class EchoBot(botpy.Client):
    async def on_ready(self):
        print(f"botpy-bot: ready as {self.robot.name}", flush=True)

    async def on_group_at_message_create(self, message: GroupMessage):
        # qun removes the leading "@<bot name>" and keeps the space after it.
        text = message.content.strip()
        print(f"botpy-bot: group {message.group_openid}: {message.author.member_openid} said {text!r}", flush=True)
        # A passive reply: it names the message (msg_id), so it needs no
        # proactive quota.
        await message.reply(msg_type=0, content=reply(text))


def main():
    parser = argparse.ArgumentParser(description="A botpy group bot for qun.")
    parser.add_argument("--url", default=os.environ.get("QUN_URL", DEFAULT_URL),
                        help="qun's public URL (env QUN_URL, default %(default)s)")
    parser.add_argument("--app-id", default=os.environ.get("BOT_APP_ID"),
                        help="the bot's appId, from qun robot create (env BOT_APP_ID)")
    parser.add_argument("--app-secret", default=os.environ.get("BOT_APP_SECRET"),
                        help="the bot's appSecret, from qun robot create (env BOT_APP_SECRET)")
    parser.add_argument("-d", "--debug", action="store_true",
                        help="botpy's debug log (it shows access tokens)")
    args = parser.parse_args()
    if not args.app_id or not args.app_secret:
        parser.error("give the bot's appId and appSecret: --app-id and --app-secret, "
                     "or BOT_APP_ID and BOT_APP_SECRET (qun robot create prints them)")

    use_qun(args.url)
    # public_messages is intent 1<<25, which carries the group events.
    # ext_handlers=False: no botpy.log file in the working directory.
    client = EchoBot(intents=botpy.Intents(public_messages=True), ext_handlers=False)
    client.run(appid=args.app_id, secret=args.app_secret)


if __name__ == "__main__":
    sys.exit(main())
