"""The built-in platform adapters, one module per platform.

Each is an ``bridge.adapter.Adapter`` subclass installed as an entry point of
``community_bridge.adapters`` (see pyproject.toml); the runtime finds them there.
"""
