"""Model registry: versions from runs, aliases, stages with staged rollout and rollback,
deployments, incidents and delivery metrics."""
