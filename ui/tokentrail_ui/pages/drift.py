"""Drift: compare a baseline to a current window (time ranges or two values of a field); feature
statuses and statistics, overlaid distributions, topic clusters, examples, scheduled checks."""

from __future__ import annotations

import streamlit as st

from tokentrail.api import ApiError, DriftReport
from tokentrail_ui import charts, components, connection, filters, loaders
from tokentrail_ui.shaping import drift
from tokentrail_ui.shaping.window import date_window

REPORT_STATE = "tt_drift_request"
TIME_RANGES = "Two time ranges"
FIELD_VALUES = "Two values of a field"
CUSTOM_DATES = "Custom dates"


def cluster_dataset_form(report: DriftReport, feature: str, grown: dict[int, str]) -> None:
    """The action "Make a dataset from this cluster": the spans whose current-window text fell in a
    cluster that grew, mined into a new dataset whose id and size are shown."""
    if not grown:
        return
    with st.form(f"tt_cluster_dataset_{feature}"):
        st.markdown("**Make a dataset from this cluster**")
        choices: list[int] = list(grown)
        cluster_id = st.selectbox(
            "Cluster that grew",
            choices,
            format_func=lambda cluster: grown[cluster],
            key=f"tt_cluster_pick_{feature}",
        )
        dataset_name = st.text_input(
            "Dataset name", value=f"{feature} cluster", key=f"tt_cluster_dataset_name_{feature}"
        )
        dedupe = st.checkbox("Remove near duplicates", value=True, key=f"tt_cluster_dedupe_{feature}")
        st.caption(
            "Its examples are the current window's spans in the cluster, of the texts the report "
            "sampled, nearest its centre first."
        )
        if (
            not st.form_submit_button("Make a dataset from this cluster", key=f"tt_cluster_create_{feature}")
            or cluster_id is None
        ):
            return
    label = grown[cluster_id]
    try:
        created = loaders.create_dataset(
            session,
            dataset_name.strip() or f"{feature} cluster",
            description=f"Drift report: {drift.feature_name(feature)} cluster {label}, current window.",
            filter=report.cluster_filter(feature, cluster_id),
            dedupe=dedupe,
        )
    except ApiError as error:
        components.show_api_error(error, session)
        return
    st.success(
        f"Created dataset **{created['name']}** (`{created['dataset_id']}`) with "
        f"{created['item_count']} items. Open it on the Datasets page.",
        icon=":material/dataset:",
    )


session = connection.current()
chosen = filters.current()

st.title("Drift")
st.caption(
    "Compares a baseline to a current window feature by feature (PSI and Kolmogorov–Smirnov for numbers, "
    "Jensen–Shannon and chi-square for categories, clusters of prompt and completion text for topics). "
    + (f"Only {chosen.describe().split(', ', 1)[1]}." if chosen.service or chosen.model else "")
)

# --- what to compare ------------------------------------------------------------------------------
with st.form("tt_drift_form"):
    mode = st.radio("Compare", [TIME_RANGES, FIELD_VALUES], horizontal=True, key="tt_drift_mode")
    left, right = st.columns(2)
    comparison = left.selectbox("Time ranges", [*drift.COMPARISONS, CUSTOM_DATES], key="tt_drift_comparison")
    baseline_dates = left.date_input("Baseline dates (custom)", value=[], key="tt_drift_baseline_dates")
    current_dates = left.date_input("Current dates (custom)", value=[], key="tt_drift_current_dates")
    field = right.selectbox("Field", drift.FIELDS, key="tt_drift_field")
    baseline_value = right.text_input("Baseline value", key="tt_drift_baseline_value", placeholder="e.g. v1")
    current_value = right.text_input("Current value", key="tt_drift_current_value", placeholder="e.g. v2")
    right.caption("Field values are compared within the time range of the sidebar.")
    features = st.multiselect(
        "Features (all when empty)",
        list(drift.FEATURE_NAMES),
        format_func=drift.feature_name,
        key="tt_drift_features",
    )
    clusters = st.slider("Topic clusters", min_value=2, max_value=20, value=8, key="tt_drift_clusters")
    submitted = st.form_submit_button("Compute drift report", type="primary")

if submitted:
    problem = ""
    if mode == FIELD_VALUES:
        if not baseline_value.strip() or not current_value.strip():
            problem = "Give both values of the field."
        baseline, current = drift.field_windows(
            field, baseline_value.strip(), current_value.strip(), chosen.window.start, chosen.window.end
        )
    elif comparison == CUSTOM_DATES:
        if len(baseline_dates) != 2 or len(current_dates) != 2:
            problem = "Pick a first and a last day for both the baseline and the current window."
            baseline = current = {}
        else:
            base, now = date_window(*baseline_dates), date_window(*current_dates)
            baseline = {"start": base.start or "", "end": base.end or ""}
            current = {"start": now.start or "", "end": now.end or ""}
    else:
        baseline, current = drift.COMPARISONS[comparison]
    if problem:
        st.warning(problem)
    else:
        st.session_state[REPORT_STATE] = {
            "baseline": baseline,
            "current": current,
            "model": chosen.model,
            "service": chosen.service,
            "features": tuple(features) or None,
            "clusters": clusters,
        }

asked = st.session_state.get(REPORT_STATE)
if asked is None:
    st.info(
        "Pick what to compare and press **Compute drift report**. A report over a large window takes a few "
        "seconds: the collector aggregates in ClickHouse and clusters a bounded sample of texts.",
        icon=":material/difference:",
    )
else:
    with st.status("Computing the drift report…", expanded=False) as progress:
        try:
            progress.write("Aggregating both windows and clustering sampled texts in the collector")
            raw = loaders.drift_report(session, **asked)
            progress.update(label="Drift report ready", state="complete")
        except ApiError as error:
            progress.update(label="The drift report failed", state="error")
            raw = None
            components.show_api_error(error, session)
    if raw is not None:
        report = DriftReport(raw)
        verdict = {"stable": st.success, "warning": st.warning, "drifted": st.error}.get(
            report.status, st.info
        )
        verdict(
            f"**Overall: {report.status}**"
            + (f" · drifted: {', '.join(map(drift.feature_name, report.drifted))}" if report.drifted else "")
            + (
                f" · warnings: {', '.join(map(drift.feature_name, report.warnings))}"
                if report.warnings
                else ""
            )
        )
        base_column, current_column = st.columns(2)
        base_column.markdown(f"**Baseline**: {drift.window_text(report.baseline)}")
        current_column.markdown(f"**Current**: {drift.window_text(report.current)}")

        table = drift.feature_table(report.features())
        st.subheader("Features")
        st.dataframe(
            table.style.apply(drift.status_style, subset=["status"]),
            hide_index=True,
            column_config={
                "value": st.column_config.NumberColumn(format="%.3f"),
                "p-value": st.column_config.NumberColumn(format="%.2g"),
                "baseline p50": st.column_config.NumberColumn(format="%.1f"),
                "current p50": st.column_config.NumberColumn(format="%.1f"),
            },
        )

        st.subheader("Distributions")
        ranked = sorted(
            report.raw["features"],
            key=lambda item: ("stable", "warning", "drifted").index(item["status"]),
            reverse=True,
        )
        for feature in ranked:
            name = feature["feature"]
            with st.expander(
                f"{drift.feature_name(name)}: {feature['status']}",
                expanded=feature["status"] == "drifted",
                icon=drift.status_icon(feature["status"]),
            ):
                if name in drift.TOPIC_FEATURES:
                    topics = report.topics(name)
                    if topics.empty:
                        st.caption(feature.get("note") or "No texts to cluster on one of the sides.")
                    else:
                        st.caption(
                            f"Clusters of {topics.attrs.get('embedder')} text vectors; centroid distance "
                            f"{topics.attrs.get('centroid_distance') or 0:.3f}. Largest change first."
                        )
                        st.dataframe(
                            drift.topic_rows(topics),
                            hide_index=True,
                            column_config={
                                "change": st.column_config.NumberColumn(format="%+.1%"),
                                "baseline share": st.column_config.NumberColumn(format="percent"),
                                "current share": st.column_config.NumberColumn(format="percent"),
                            },
                        )
                        cluster_dataset_form(report, name, drift.grown_clusters(topics))
                else:
                    long, order = drift.distribution_long(report.distribution(name))
                    if long.empty:
                        st.caption(feature.get("note") or "Not enough values to compare.")
                    else:
                        st.altair_chart(
                            charts.distributions(long, order, title=drift.feature_name(name)),
                            width="stretch",
                            height=260,
                        )
                examples = drift.example_rows(report.examples(name))
                if not examples.empty:
                    st.markdown("Most drifted examples")
                    st.dataframe(
                        examples,
                        hide_index=True,
                        column_config={
                            "trace": st.column_config.LinkColumn("trace", display_text=r"trace=([0-9a-f]{8})")
                        },
                    )

# --- scheduled checks ----------------------------------------------------------------------------
st.subheader("Scheduled drift checks")
with components.api_errors(session):
    monitors = loaders.drift_monitors(session)
    if monitors.empty:
        st.caption("No monitors yet. A monitor re-runs a comparison on a schedule and keeps every result.")
    else:
        names = dict(zip(monitors["monitor_id"], monitors["name"], strict=True))
        monitor_id = st.selectbox("Monitor", list(names), format_func=names.get, key="tt_drift_monitor")
        row = monitors[monitors["monitor_id"] == monitor_id].iloc[0]
        st.caption(
            f"every {int(row['interval_s']) // 60} min · last status "
            f"{drift.status_label(str(row['last_status'] or 'not run yet'))}"
        )
        statuses, psi = drift.history(loaders.monitor_results(session, monitor_id))
        if statuses.empty:
            st.caption("No results yet: the collector runs the check at its next interval.")
        else:
            st.line_chart(psi)
            st.dataframe(statuses, hide_index=True)
        run_column, delete_column = st.columns(2)
        if run_column.button("Run now", key="tt_drift_run"):
            with st.spinner("Evaluating the monitor…"):
                loaders.run_monitor(session, monitor_id)
            st.rerun()
        if delete_column.button("Delete this monitor", key="tt_drift_delete"):
            loaders.delete_monitor(session, monitor_id)
            st.rerun()
    with st.expander("New monitor"), st.form("tt_monitor_form"):
        monitor_name = st.text_input("Name", value="daily drift", key="tt_monitor_name")
        monitor_comparison = st.selectbox("Windows", list(drift.COMPARISONS), key="tt_monitor_comparison")
        interval_minutes = st.number_input(
            "Every (minutes)", min_value=1, value=60, key="tt_monitor_interval"
        )
        st.caption("The sidebar's model and service filter applies to the monitor too.")
        if st.form_submit_button("Create monitor"):
            baseline, current = drift.COMPARISONS[monitor_comparison]
            loaders.create_monitor(
                session,
                monitor_name.strip() or "drift",
                baseline=baseline,
                current=current,
                interval_s=int(interval_minutes) * 60,
                model=chosen.model,
                service=chosen.service,
            )
            st.rerun()
