"""Fidelity eval harness for TICS Assistant (``python -m eval``)."""
