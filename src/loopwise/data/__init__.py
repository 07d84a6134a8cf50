"""Datasets: immutable versions with hashes, profiles, quality, leakage and readiness."""
