"""tokentrail collector."""
