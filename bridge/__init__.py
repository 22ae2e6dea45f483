"""community-bridge: one bot process that brings communities into Slack, Telegram and Discord."""

__version__ = "0.1.0"
