"""Size limits on stored values, in one place (documented in README)."""

MAX_NAME = 200
MAX_KEY = 250
MAX_TEXT = 20_000
MAX_PARAM_VALUE = 6_000
MAX_TAG_VALUE = 8_000
MAX_LABELS = 50
MAX_BATCH = 10_000
