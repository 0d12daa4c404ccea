"""Pages of the UI: each file is a script that `st.navigation` runs (see ../app.py)."""
