"""One module per run kind; each registers itself (see runtime.runs.registry)."""
