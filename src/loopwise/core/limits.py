"""Size limits on stored values, in one place (documented in README)."""

MAX_NAME = 200
MAX_KEY = 250
MAX_TEXT = 20_000
MAX_PARAM_VALUE = 6_000
MAX_TAG_VALUE = 8_000
MAX_LABELS = 50
MAX_BATCH = 10_000

# The run filter grammar (tracking.search), on every door. A filter of 2,000 clauses kept a
# PostgreSQL backend busy for minutes; SQLite refuses about 990 (its expression tree is at
# most 1,000 deep) and more than 63 joined tables (each sort key is one join).
MAX_FILTER_CLAUSES = 100
MAX_FILTER_VALUES = 10_000  # values in all IN (...) lists of one filter together
MAX_ORDER_KEYS = 10
