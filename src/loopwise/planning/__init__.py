"""Projects with charters, work items, hypotheses and their verdicts."""
