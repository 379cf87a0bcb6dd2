"""The installed package's version, read from its metadata (package.json is the single source)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jupyter_session_monitor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
