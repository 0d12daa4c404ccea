"""Datasets: build an eval dataset from filters with a live count and preview (duplicates removed,
sampled), then edit expected outputs, browse versions, download every export format, import."""

from __future__ import annotations

import streamlit as st

from tokentrail.api import ApiError
from tokentrail_ui import components, connection, filters, loaders
from tokentrail_ui.shaping import datasets as shaping

SELECTED = "tt_dataset_selected"
EXPORTED = "tt_dataset_export"
ITEM_PAGE = 100

session = connection.current()
chosen = filters.current()

st.title("Datasets")

# An API error anywhere below is a message on the page (components.api_errors).
with components.api_errors(session):
    # --- build from filters -----------------------------------------------------------------------
    with st.expander("Build a dataset from traces", expanded=True):
        st.caption(f"Spans of {chosen.describe()}, as the sidebar says, and:")
        first, second, third = st.columns(3)
        kinds = first.multiselect("Span kinds", shaping.KINDS, default=["llm"], key="tt_ds_kinds")
        status = first.selectbox("Status", ["any", "ok", "error"], key="tt_ds_status")
        text = second.text_input("Text in input or output", key="tt_ds_text")
        tags = second.text_input("Tags (comma separated, all required)", key="tt_ds_tags")
        percentile = third.number_input(
            "Latency at or above percentile",
            min_value=0.0,
            max_value=99.9,
            value=0.0,
            step=5.0,
            key="tt_ds_pct",
        )
        cost_min = third.number_input(
            "Min cost (USD)", min_value=0.0, step=0.001, format="%.4f", key="tt_ds_cost"
        )
        score_column, score_value_column, limit_column = st.columns(3)
        score_name = score_column.text_input("Score name", key="tt_ds_score", placeholder="e.g. thumbs")
        score_value = score_value_column.text_input(
            "Score value", key="tt_ds_score_value", placeholder="e.g. false"
        )
        limit = limit_column.number_input(
            "Read at most (spans)",
            min_value=1,
            value=1000,
            step=1000,
            key="tt_ds_limit",
            help="The live count and preview read this many matching spans; raise it for a larger dataset.",
        )

        dedupe_column, sample_column = st.columns(2)
        with dedupe_column:
            dedupe_on = st.toggle("Remove near duplicates", value=True, key="tt_ds_dedupe")
            threshold = st.slider(
                "Similarity threshold (Jaccard of 5-byte shingles, MinHash/LSH candidates)",
                min_value=0.5,
                max_value=1.0,
                value=0.8,
                step=0.05,
                key="tt_ds_threshold",
                disabled=not dedupe_on,
            )
        with sample_column:
            sample_on = st.toggle("Sample", value=False, key="tt_ds_sample")
            size = st.number_input(
                "Sample size", min_value=1, value=100, key="tt_ds_size", disabled=not sample_on
            )
            stratify = st.selectbox(
                "Stratify by",
                ["random", *shaping.STRATIFY_FIELDS],
                key="tt_ds_stratify",
                disabled=not sample_on,
            )

        mining_filter = shaping.mining_filter(
            chosen.window,
            kinds=kinds,
            models=[chosen.model] if chosen.model else [],
            services=[chosen.service] if chosen.service else [],
            status=None if status == "any" else status,
            text=text,
            tags=tags.split(","),
            latency_percentile=percentile or None,
            cost_min_usd=cost_min or None,
            score_name=score_name.strip() or None,
            score_value=score_value.strip() or None,
            limit=int(limit),
        )
        dedupe = {"enabled": dedupe_on, "threshold": threshold}
        sample = (
            {"size": int(size), "stratify_by": None if stratify == "random" else stratify}
            if sample_on
            else None
        )
        with components.api_errors(session):
            with st.spinner("Mining a preview: reading spans, removing duplicates, sampling…"):
                preview = loaders.dataset_preview(session, mining_filter, dedupe, sample)
            count = int(preview.attrs["count"])
            st.metric("Items the dataset would hold", f"{count:,}")
            for line in shaping.report_lines(preview.attrs["report"]):
                st.caption(line)
            if preview.empty:
                st.info("No spans match. Widen the time range in the sidebar or loosen the filters.")
            else:
                st.dataframe(preview[["input", "output", "source_trace_id"]], hide_index=True, height=240)
            name_column, description_column = st.columns([1, 2])
            name = name_column.text_input(
                "Dataset name", key="tt_ds_name", placeholder="e.g. refund questions"
            )
            description = description_column.text_input("Description", key="tt_ds_description")
            if st.button(
                "Create dataset", type="primary", disabled=count == 0 or not name.strip(), key="tt_ds_create"
            ):
                with st.spinner(f"Mining {count:,} items…"):
                    created = loaders.create_dataset(
                        session,
                        name.strip(),
                        description=description,
                        filter=mining_filter,
                        dedupe=dedupe,
                        sample=sample,
                    )
                st.session_state[SELECTED] = created["dataset_id"]
                st.success(
                    f"Dataset {created['name']!r} created with {created['item_count']:,} items (version 1)."
                )

    # --- the datasets ---------------------------------------------------------------------------
    st.subheader("Datasets")
    listing = loaders.datasets(session)
    if listing.empty:
        st.info("No datasets yet: build one from traces above.", icon=":material/dataset:")
        st.stop()

    st.dataframe(
        listing[["name", "item_count", "latest_version", "created_at", "description"]],
        hide_index=True,
        column_config={"item_count": "items", "latest_version": "version"},
    )
    names = dict(zip(listing["dataset_id"], listing["name"], strict=True))
    if st.session_state.get(SELECTED) not in names:
        st.session_state[SELECTED] = next(iter(names))
    dataset_id = st.selectbox("Dataset", list(names), format_func=names.get, key=SELECTED)
    dataset = listing[listing["dataset_id"] == dataset_id].iloc[0]
    latest = int(dataset["latest_version"])

    versions = loaders.dataset_versions(session, dataset_id)
    version_column, table_column = st.columns([1, 3])
    version = version_column.selectbox(
        "Version", list(versions["version"])[::-1] or [latest], key=f"tt_ds_version_{dataset_id}"
    )
    table_column.dataframe(versions.sort_values("version", ascending=False), hide_index=True, height=160)
    version = int(version)

    total_items = int(loaders.dataset_items(session, dataset_id, version, 1).attrs["total"])
    pages = max(1, -(-total_items // ITEM_PAGE))
    page = int(
        st.number_input("Items page", min_value=1, max_value=pages, value=1, key=f"tt_ds_page_{dataset_id}")
    )
    items = loaders.dataset_items(session, dataset_id, version, ITEM_PAGE, (page - 1) * ITEM_PAGE)
    st.markdown(
        f"**{total_items:,} items** in version {version}"
        + (
            " (latest: edit expected outputs below)"
            if version == latest
            else " (read only: an older version)"
        )
    )
    shown = (
        items[["item_id", "input", "output", "expected_output", "source_trace_id"]]
        if not items.empty
        else items
    )
    edited = st.data_editor(
        shown,
        hide_index=True,
        disabled=[column for column in shown.columns if column != "expected_output" or version != latest],
        key=f"tt_ds_editor_{dataset_id}_{version}_{page}",
    )
    changes = shaping.edited_expectations(shown, edited)
    if version == latest and st.button(
        f"Save {len(changes)} edited expected output(s)", disabled=not changes, key="tt_ds_save"
    ):
        bar = st.progress(0.0, text="Saving edits…")
        for done, (item_id, expected) in enumerate(changes, start=1):
            new_version = loaders.edit_expected_output(session, dataset_id, item_id, expected)
            bar.progress(done / len(changes), text=f"Saved {done} of {len(changes)}")
        st.success(f"Saved: the dataset is now at version {new_version}.")
        st.rerun()

    # --- export and import --------------------------------------------------------------------------
    st.subheader("Download")
    format_column, button_column = st.columns([3, 1])
    export_format = format_column.radio(
        "Format",
        list(shaping.EXPORT_LABELS),
        format_func=shaping.EXPORT_LABELS.get,
        horizontal=True,
        key="tt_ds_format",
    )
    if button_column.button("Prepare download", key="tt_ds_export"):
        bar = st.progress(0.0, text="The collector is writing the file…")

        def _progress(received: int, total: int | None) -> None:
            share = received / total if total else 0.0
            bar.progress(
                min(1.0, share),
                text=f"Downloading: {received / 1024:,.0f} KiB"
                + (f" of {total / 1024:,.0f} KiB" if total else ""),
            )

        try:
            data = loaders.export_dataset(session, dataset_id, export_format, version, _progress)
        except ApiError as error:
            components.show_api_error(error, session)
        else:
            bar.progress(1.0, text=f"Ready: {len(data) / 1024:,.1f} KiB")
            st.session_state[EXPORTED] = (dataset_id, version, export_format, data)
    prepared = st.session_state.get(EXPORTED)
    if prepared and prepared[:3] == (dataset_id, version, export_format):
        st.download_button(
            f"Download {shaping.EXPORT_LABELS[export_format]}",
            data=prepared[3],
            file_name=shaping.export_file_name(str(dataset["name"]), version, export_format),
            mime=shaping.MIME_TYPES[export_format],
            icon=":material/download:",
            key="tt_ds_download",
        )

    with st.expander("Import items from a file"):
        upload = st.file_uploader(
            "JSONL, CSV or Parquet in an export format", type=["jsonl", "json", "csv", "parquet"]
        )
        openai_format = st.checkbox(
            "The JSONL file is in the OpenAI fine-tuning format", key="tt_ds_import_openai"
        )
        if upload is not None and st.button("Import", key="tt_ds_import"):
            file_format = shaping.import_format(upload.name, "openai" if openai_format else None)
            if file_format is None:
                st.error("Cannot tell the file's format from its name; use .jsonl, .csv or .parquet.")
            else:
                with st.spinner("Importing…"):
                    result = loaders.import_items(session, dataset_id, upload.getvalue(), file_format)
                st.success(f"Imported {result['imported']:,} items: version {result['version']}.")
