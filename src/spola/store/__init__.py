"""The run store: an SQLite journal of runs and their HTTP exchanges, for ``spola runs`` and resume.

`RunStore` is the synchronous API (one connection, one thread at a time); `Journal` is the
asyncio writer with group commit that drivers use. Records are redacted when built.
"""

from spola.store.journal import Journal, JournalStats
from spola.store.records import (
    IDEMPOTENT_METHODS,
    RUN_STATUSES,
    EventRecord,
    ExchangeRecord,
    ExchangeRow,
    IntentRecord,
    ResponseRecord,
    RunHeader,
    RunRecord,
    RunStatus,
    RunSummary,
    exchange_row,
    iso_utc,
)
from spola.store.schema import SCHEMA_VERSION, default_store_path
from spola.store.sqlite import RunStore

__all__ = [
    "IDEMPOTENT_METHODS",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "EventRecord",
    "ExchangeRecord",
    "ExchangeRow",
    "IntentRecord",
    "Journal",
    "JournalStats",
    "ResponseRecord",
    "RunHeader",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunSummary",
    "default_store_path",
    "exchange_row",
    "iso_utc",
]
