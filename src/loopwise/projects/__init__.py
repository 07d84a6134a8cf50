"""Projects: key, charter and CRISP-DM phase; members and their roles."""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="projects",
    tables=("loopwise.projects.tables",),
    api=("loopwise.projects.api:router",),
    cli=("loopwise.projects.cli",),
)
