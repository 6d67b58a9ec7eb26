"""One module per headless command: add_arguments(parser) and run(args)."""
