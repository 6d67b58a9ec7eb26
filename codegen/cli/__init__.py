"""One module per headless command that needs only codegen and graph (see main.py)."""
