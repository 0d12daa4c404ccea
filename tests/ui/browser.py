"""The browser test's machinery: Debian's chromium and chromedriver (installed when missing), the UI
as its own process (`tokentrail ui`), and a headless Chrome session driving it with selenium.

Nothing is downloaded at run time except the two Debian packages: selenium is given the driver's
path, so its own driver manager never runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
ARTIFACTS = ROOT / "tests" / "artifacts"


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver unless both are there (fast when they are)."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if shutil.which("apt-get") is None:
        pytest.skip("the browser test needs Debian's chromium and chromium-driver (no apt-get here)")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            pytest.skip("installing chromium needs root: apt-get install chromium chromium-driver")
        prefix = ["sudo", "-n"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        done = subprocess.run([*prefix, *command], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "chromium installed but not at /usr/bin"


class UiProcess:
    """`tokentrail ui` on a free loopback port, reading `collector_url` with `key`."""

    def __init__(
        self, collector_url: str, key: str, log_path: Path, *, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.collector_url = collector_url
        self.key = key
        self.log_path = log_path
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 90) -> UiProcess:
        env = (
            os.environ
            | {"TOKENTRAIL_ENDPOINT": self.collector_url, "TOKENTRAIL_API_KEY": self.key}
            | self.extra_env
        )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tokentrail_collector.cli", "ui", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tokentrail ui exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/_stcore/health", timeout=1).text.strip() == "ok":
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the UI did not answer in {timeout_s}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def chrome(width: int = 1440, height: int = 2200):  # -> selenium.webdriver.Chrome
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
