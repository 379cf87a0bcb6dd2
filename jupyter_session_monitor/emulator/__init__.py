"""A local emulator of the Qiskit Runtime service for the unmodified qiskit-ibm-runtime client.

An island: it imports nothing from the monitor.
Usage: ``python -m jupyter_session_monitor.emulator serve --help``.
"""

from .server import Emulator, EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig"]
