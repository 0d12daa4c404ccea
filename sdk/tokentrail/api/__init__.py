"""The client of the collector's query API, for notebooks and the UI.

    from datetime import timedelta
    from tokentrail.api import Client

    with Client() as api:                       # TOKENTRAIL_ENDPOINT and TOKENTRAIL_API_KEY from the environment
        slow = api.traces(start=timedelta(days=1), model="gpt-4o-mini")
        hourly = api.stats(bucket_seconds=3600)

Scores (`api.scores`), drift reports and monitors (`api.drift`), eval datasets (`api.datasets`),
prices (`api.prices`) and GPU series (`api.gpu()`) hang off the same client. Tables come back as
pandas DataFrames (pandas is imported only then); errors as `ApiError`s.
"""

from tokentrail.api._client import Client
from tokentrail.api._drift import DriftReport, drift_window
from tokentrail.api._http import (
    ApiError,
    CollectorUnreachable,
    NotACollector,
    NotFound,
    TimeArg,
    Unauthorized,
)

__all__ = [
    "ApiError",
    "Client",
    "CollectorUnreachable",
    "DriftReport",
    "NotACollector",
    "NotFound",
    "TimeArg",
    "Unauthorized",
    "drift_window",
]
