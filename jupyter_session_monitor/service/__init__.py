"""The gateway to the Qiskit Runtime service: the only code that calls the client."""
