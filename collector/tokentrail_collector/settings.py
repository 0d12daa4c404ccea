"""Collector configuration: environment variables `TOKENTRAIL_*`, the same names as the CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE_URL = "chdb://.tokentrail"


class Settings(BaseSettings):
    """Everything the collector reads from its environment, with the defaults a laptop needs."""

    model_config = SettingsConfigDict(env_prefix="TOKENTRAIL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=4318, ge=1, le=65535)
    clickhouse_url: str = DEFAULT_STORE_URL
    # A ClickHouse cluster name (server stores): replicated local tables + Distributed tables.
    clickhouse_cluster: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    admin_token: SecretStr | None = None
    # Body limit for one OTLP request, checked after decompression.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Group commit: rows of concurrent requests go into one insert.
    max_batch_rows: int = Field(default=20_000, ge=1)
    max_linger_ms: int = Field(default=20, ge=0)
    max_pending_rows: int = Field(default=200_000, ge=1)
    log_level: str = "info"
    # Prometheus text at GET /metrics, without a key (no tenant data in it); false removes the route.
    metrics: bool = True
    # Token bucket per API key: sustained requests per second and burst; 0 turns the limit off.
    # Generous by default: 16 senders of small OTLP batches reach several hundred requests/s.
    rate_limit_rps: float = Field(default=1000.0, ge=0)
    rate_limit_burst: int = Field(default=2000, ge=1)
    # Comma-separated browser origins allowed by CORS; empty: no CORS headers at all.
    cors_origins: str = ""
    # Tail sampling (off by default; collector/tokentrail_collector/sampling.py). A trace with an
    # error, a span at least sampling_slow_ms long or costing at least sampling_expensive_usd, or a
    # score below sampling_low_score is kept whole; of the rest, sampling_rate of the traces (by a
    # hash of the trace id). Spans sampled away are held for sampling_hold_s in case later evidence
    # keeps their trace. inf (or -inf for the score) turns a rule off.
    sampling: bool = False
    sampling_rate: float = Field(default=0.1, ge=0, le=1)
    sampling_slow_ms: float = Field(default=10_000, ge=0)
    sampling_expensive_usd: float = Field(default=0.05, ge=0)
    sampling_low_score: float = 0.5
    sampling_hold_s: int = Field(default=3600, ge=1, le=7 * 86_400)
    # Retention (storage/retention.py): days of telemetry kept per project unless the project has
    # its own (`tokentrail retention set`); 0 keeps forever. 30 days: a month of history for
    # comparisons and drift baselines, prompts and completions not kept longer than needed (they
    # may hold personal data), and disk bounded on a laptop. Datasets are never pruned.
    retention_days: int = Field(default=30, ge=0, le=36_500)
    # Seconds between retention passes; the first comes retention_first_delay_s after start-up.
    retention_interval_s: float = Field(default=3600, ge=1)
    retention_first_delay_s: float = Field(default=300, ge=0)

    @property
    def state_dir(self) -> Path:
        """Where the collector keeps its local files (the admin token): the chDB directory, or ./.tokentrail."""
        return chdb_directory(self.clickhouse_url) or Path(".tokentrail").resolve()

    @property
    def admin_token_file(self) -> Path:
        return self.state_dir / "admin_token"

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


def chdb_directory(url: str) -> Path | None:
    """The data directory of a `chdb://` store URL, or None for a ClickHouse server URL."""
    if not url.startswith("chdb://"):
        return None
    return Path(url.removeprefix("chdb://") or ".tokentrail").resolve()
