"""tokentrail's analysis UI (Streamlit): `tokentrail ui`, or `streamlit run` on `ENTRYPOINT`.

It reads everything through `tokentrail.api`, so it works the same on chDB and on a ClickHouse
cluster, and never touches the store or the collector's internals.
"""

from pathlib import Path

ENTRYPOINT = Path(__file__).resolve().parent / "app.py"

__all__ = ["ENTRYPOINT"]
