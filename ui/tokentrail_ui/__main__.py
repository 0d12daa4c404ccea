"""`python -m tokentrail_ui` (what `tokentrail ui` runs): Streamlit on the UI's entrypoint.

Listens on 127.0.0.1:8501 unless told otherwise. Beyond loopback it starts only with
`TOKENTRAIL_UI_PASSWORD` set, which the app then asks for: the UI reads a project's prompts with
the key it was given, so it must not be open to a network without a password.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Sequence

from tokentrail._config import ENV_API_KEY, ENV_ENDPOINT
from tokentrail_ui import ENTRYPOINT
from tokentrail_ui.auth import ENV_UI_PASSWORD

ENV_UI_HOST = "TOKENTRAIL_UI_HOST"
ENV_UI_PORT = "TOKENTRAIL_UI_PORT"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokentrail ui", description="The tokentrail analysis UI (Streamlit)."
    )
    parser.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST}; {ENV_UI_HOST})")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}; {ENV_UI_PORT})")
    parser.add_argument(
        "--collector-url", help=f"the collector to read from (default {ENV_ENDPOINT} or local)"
    )
    return parser


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(ENTRYPOINT),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    host = args.host or os.environ.get(ENV_UI_HOST) or DEFAULT_HOST
    port = args.port or int(os.environ.get(ENV_UI_PORT) or DEFAULT_PORT)
    if not is_loopback(host) and not os.environ.get(ENV_UI_PASSWORD):
        print(
            f"tokentrail ui: refusing to listen on {host} without a password: anyone reaching the page "
            f"would read this project's traces. Set {ENV_UI_PASSWORD}, or listen on 127.0.0.1 and "
            "reach it through an SSH tunnel or an authenticating proxy.",
            file=sys.stderr,
        )
        return 2
    if args.collector_url:
        os.environ[ENV_ENDPOINT] = args.collector_url
    if not os.environ.get(ENV_API_KEY):
        print(f"tokentrail ui: {ENV_API_KEY} is not set; paste a key on the Settings page.", file=sys.stderr)
    print(f"tokentrail UI on http://{host}:{port}", flush=True)
    command = streamlit_command(host, port)
    os.execv(command[0], command)  # Streamlit takes over this process: signals reach it directly
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    raise SystemExit(main())
