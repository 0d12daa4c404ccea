"""tokentrail SDK."""
