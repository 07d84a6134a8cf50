"""Size limits on stored values, in one place (documented in README)."""

MAX_NAME = 200
MAX_KEY = 250
MAX_TEXT = 20_000
MAX_PARAM_VALUE = 6_000
MAX_TAG_VALUE = 8_000
MAX_LABELS = 50
MAX_BATCH = 10_000

# Whole numbers that reach the database: PostgreSQL's INTEGER holds 32 bits and BIGINT 64
# (SQLite's INTEGER 64). A number past its column's range matches no row, but the driver
# refuses it instead (PostgreSQL: DataError; SQLite: OverflowError), so lookups by number
# check the range first and answer "not found" without a query.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
