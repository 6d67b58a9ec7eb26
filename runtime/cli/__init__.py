"""One module per headless command that needs TensorFlow (see main.py)."""
