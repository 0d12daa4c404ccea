"""Analysis of stored traces: drift reports and eval datasets mined from traces."""

from tokentrail_collector.analysis.datasets import Item, MiningReport, NewItem, SampleOptions, mine
from tokentrail_collector.analysis.dedupe import DedupeMethod, deduplicate
from tokentrail_collector.analysis.drift import drift_report
from tokentrail_collector.analysis.drift_monitors import (
    create_monitor,
    delete_monitor,
    due_monitors,
    evaluate_monitor,
    get_monitor,
    list_monitors,
    monitor_results,
)
from tokentrail_collector.analysis.drift_scheduler import DriftScheduler
from tokentrail_collector.analysis.formats import FORMATS, ImportFormatError, export_items, parse_items

__all__ = [
    "FORMATS",
    "DedupeMethod",
    "DriftScheduler",
    "ImportFormatError",
    "Item",
    "MiningReport",
    "NewItem",
    "SampleOptions",
    "create_monitor",
    "deduplicate",
    "delete_monitor",
    "drift_report",
    "due_monitors",
    "evaluate_monitor",
    "export_items",
    "get_monitor",
    "list_monitors",
    "mine",
    "monitor_results",
    "parse_items",
]
