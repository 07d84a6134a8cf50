"""Thin core shared by every slice: settings, errors, ids, clock, request context."""
