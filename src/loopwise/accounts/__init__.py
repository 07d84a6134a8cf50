"""Users, API tokens, sign-in and per-project roles."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="accounts",
    tables=("loopwise.accounts.tables",),
    api=("loopwise.accounts.api:router",),
    pages=("loopwise.accounts.pages:router",),
    cli=("loopwise.accounts.cli",),
    identity="loopwise.accounts.identity:identity",
)
