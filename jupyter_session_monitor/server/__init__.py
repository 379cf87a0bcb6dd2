"""The Jupyter server extension: its app (configuration, wiring) and HTTP handlers."""
