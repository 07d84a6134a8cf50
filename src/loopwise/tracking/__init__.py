"""Experiments and runs: params, metric series, tags and artifacts."""
