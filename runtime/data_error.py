"""The one error type for data that cannot be loaded or does not fit."""

from __future__ import annotations


class DataError(ValueError):
    """Data that cannot be used, with a message naming the file, column or row at fault."""
