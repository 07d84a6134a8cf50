"""The export format of the audit trail: one JSON object per line, one line per entry.

    {"action":"...","actor":"usr_...","hash":"...","object":"...","outcome":"ok",
     "payload_digest":"...","previous_hash":"...","reason":"","seq":1,
     "time":"2026-01-05T09:00:00.000000Z"}

Keys sorted, no whitespace, ``time`` in its canonical text: with a signed checkpoint and
the public key, a file like this is verified with no database (``loopwise audit
verify-checkpoint FILE --entries EXPORT``), or with any tool that recomputes the hash
formula of docs/governance.md. Pure: no database, no I/O beyond the given lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from loopwise.audit.chain import Entry, time_text

FIELDS = (
    "seq",
    "time",
    "actor",
    "action",
    "object",
    "outcome",
    "reason",
    "payload_digest",
    "previous_hash",
    "hash",
)


def entry_line(entry: Entry) -> str:
    """One entry as a line of JSON (with its newline)."""
    document = {name: getattr(entry, name) for name in FIELDS}
    document["time"] = time_text(entry.time)
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def read_lines(lines: Iterable[str | bytes]) -> Iterator[Entry]:
    """Entries from exported lines, as a stream. A line that is not an entry becomes an
    entry with missing fields, so ``chain.verify`` names it as malformed at its place
    instead of this reader raising; blank lines are skipped."""
    for line in lines:
        if not line.strip():
            continue
        try:
            document: Any = json.loads(line)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            document = {}
        values: dict[str, Any] = {name: document.get(name) for name in FIELDS}
        moment = values["time"]
        try:
            values["time"] = datetime.fromisoformat(moment) if isinstance(moment, str) else None
        except ValueError:
            values["time"] = None
        if values["time"] is not None and time_text(values["time"]) != moment:
            values["time"] = None  # not the canonical text the hash covers
        yield Entry(**values)
