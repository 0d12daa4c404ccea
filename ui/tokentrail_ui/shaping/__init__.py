"""What the pages show, computed from the API's tables with plain pandas: no streamlit here.

Each module turns one kind of API answer into the frames and values a page draws, so the logic
is testable without a browser and the pages only render.
"""
