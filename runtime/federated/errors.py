"""The error federated settings raise before anything runs."""

from __future__ import annotations


class FederatedSettingsError(ValueError):
    """Settings that cannot give a federated run; the message says what to change."""
