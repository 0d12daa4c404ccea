"""tokentrail UI."""
