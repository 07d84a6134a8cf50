"""Loopwise: run machine-learning projects from the first hypothesis to production.

The library is the product; the HTTP API, web pages, CLI and SDK are doors onto it.
``loopwise.Client`` and ``loopwise.ActiveRun`` load the SDK when first used, so importing
a part of the library (``loopwise.numeric.drift``, say) does not import the SDK and
everything it brings.
"""

import typing as _typing

if _typing.TYPE_CHECKING:
    from loopwise.sdk.client import ActiveRun, Client

__all__ = ["ActiveRun", "Client", "__version__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> _typing.Any:
    if name in ("ActiveRun", "Client"):
        from loopwise.sdk import client

        value = getattr(client, name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    raise AttributeError(f"module 'loopwise' has no attribute {name!r}")
