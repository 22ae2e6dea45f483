"""Business logic shared by every platform: plain async functions over a session."""
