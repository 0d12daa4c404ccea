"""Starting the UI: `tokentrail ui` stays on loopback unless a password is set, and the app asks
for that password before it shows anything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import free_port
from tests.ui.conftest import SeededCollector, app_session
from tests.ui.pages import metrics
from tokentrail_ui.__main__ import is_loopback, streamlit_command
from tokentrail_ui.auth import ENV_UI_PASSWORD


def test_listening_beyond_loopback_needs_a_password() -> None:
    env = {name: value for name, value in os.environ.items() if name != ENV_UI_PASSWORD}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokentrail_collector.cli",
            "ui",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert (
        "refusing to listen on 0.0.0.0 without a password" in done.stderr and ENV_UI_PASSWORD in done.stderr
    )


def test_loopback_addresses_and_the_streamlit_command() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "192.168.1.4", "example.com", "::"))
    command = streamlit_command("127.0.0.1", 8501)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    assert command[command.index("--server.port") + 1] == "8501"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"


def test_the_app_asks_for_the_password_first(
    seeded: SeededCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_UI_PASSWORD, "open sesame")
    app = app_session(seeded.url, seeded.key)
    app.run()
    assert not app.exception and not app.metric, "nothing is shown before the password"
    assert app.text_input[0].label == "Password"

    app.text_input[0].set_value("wrong")
    app.button[0].click().run()
    assert any("Wrong password" in error.value for error in app.error) and not app.metric

    app.text_input[0].set_value("open sesame")
    app.button[0].click().run()
    assert not app.exception
    assert "Requests" in metrics(app)
