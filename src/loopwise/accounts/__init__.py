"""Users, API tokens and per-project roles."""
