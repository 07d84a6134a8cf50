"""A small synchronous event bus so slices can react to each other without import cycles.

Handlers run inside the publisher's transaction: if a handler fails, the whole use case
rolls back. Events are plain frozen dataclasses defined by the slice that publishes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# handler(ctx, event): ctx is the publisher's core.context.Context (not imported here: the
# context holds the bus, so the bus may not know the context's type)
Handler = Callable[[Any, Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, ctx: object, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(ctx, event)
