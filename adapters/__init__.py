"""Platform adapters, one module per platform. Each module exposes ``ADAPTER``, its
``bridge.adapter.Adapter`` subclass; the runtime imports ``adapters.<platform>``."""
