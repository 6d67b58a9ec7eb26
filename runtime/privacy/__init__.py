"""Privacy checks for trained models (Qt-free)."""
