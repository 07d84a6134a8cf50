"""Governance (issue 16): gate criteria over recorded evidence and the tamper-evident audit
chain. For now only pure modules (``criteria``, ``chain``); the slice (tables, services,
doors, and its place in ``slices.SLICES``) is assembled on them later."""
