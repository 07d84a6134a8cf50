"""Pure maths: arrays in, frozen dataclasses out. No database, no HTTP."""
