"""Loopwise: run machine-learning projects from the first hypothesis to production.

The library is the product; the HTTP API, web pages, CLI and SDK are doors onto it.
"""

from loopwise.sdk.client import ActiveRun, Client

__all__ = ["ActiveRun", "Client", "__version__"]

__version__ = "0.1.0"
