"""One module per headless command that needs only the graph package (see main.py)."""
