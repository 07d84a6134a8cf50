"""The tamper-evident audit trail (issue 16): every state change, approval, waiver,
promotion and read of personal data appends one hash-chained entry.

The lowest slice: every slice above records through ``loopwise.audit.service.record``
(a downward call), inside its own transaction. ``chain`` holds the pure part (entries,
hashes, verification, Ed25519 checkpoints); ``service`` stores and serializes appends.
"""

from loopwise.core.slice import Slice

SLICE = Slice(
    name="audit",
    tables=("loopwise.audit.tables",),
    api=("loopwise.audit.api:router",),
    cli=("loopwise.audit.cli",),
)
