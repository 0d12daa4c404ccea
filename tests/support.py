"""Shared test helpers: free loopback ports and a real collector process on a temporary chDB store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "e2e" / "scenario_app.py"
ADMIN_TOKEN = "tta_test-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectorProcess:
    """`tokentrail collector` as its own process, the way users run it."""

    def __init__(self, data_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"collector-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60) -> CollectorProcess:
        env = (
            os.environ
            | {
                "TOKENTRAIL_CLICKHOUSE_URL": f"chdb://{self.data_dir}",
                "TOKENTRAIL_PORT": str(self.port),
                "TOKENTRAIL_ADMIN_TOKEN": ADMIN_TOKEN,
                "TOKENTRAIL_LOG_LEVEL": "warning",
                # Tests store spans with fixed past timestamps: keep them (tests/retention sets its own).
                "TOKENTRAIL_RETENTION_DAYS": "0",
            }
            | self.extra_env
        )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tokentrail_collector.cli", "collector"], env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"collector did not become healthy in {timeout_s}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)

    def create_key(self, project_id: str, name: str = "test") -> dict[str, Any]:
        with self.admin() as client:
            response = client.post("/api/admin/keys", json={"project_id": project_id, "name": name})
            response.raise_for_status()
            return response.json()

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def run_scenario(collector: CollectorProcess, key: str, *args: str) -> dict[str, str]:
    """Run tests/e2e/scenario_app.py (an app using the SDK) against `collector`; its trace ids by role."""
    env = os.environ | {"TOKENTRAIL_ENDPOINT": collector.url, "TOKENTRAIL_API_KEY": key}
    done = subprocess.run(
        [sys.executable, str(SCENARIO), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
