"""The HTTP door: app factory, dependencies, templates and static assets."""
