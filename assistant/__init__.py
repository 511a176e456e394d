"""TICS Assistant: grounded Q&A over Japan's technology information management guideline."""

__version__ = "0.1.0"
