"""Answers of repeated queries, keyed by the index version they were computed under.

Every indexing transaction bumps the version (services.search.store.bump_index_version), so an
entry is never served once the index has changed; old versions simply age out of the LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable


class AnswerCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
