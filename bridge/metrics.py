"""Prometheus metrics of one bridge (a registry per instance, so tests can run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "bridge_commands_total",
            "Chat commands handled",
            ["platform", "command", "outcome"],
            registry=r,
        )
        self.actions = Counter(
            "bridge_button_presses_total",
            "Buttons pressed",
            ["platform", "action", "outcome"],
            registry=r,
        )
        self.delivered = Counter(
            "bridge_messages_delivered_total", "Messages delivered", ["platform"], registry=r
        )
        self.edited = Counter(
            "bridge_message_refreshes_total", "Tracked messages re-drawn", ["platform"], registry=r
        )
        self.postponed = Counter(
            "bridge_deliveries_postponed_total",
            "Deliveries postponed (rate limits, retries)",
            ["platform"],
            registry=r,
        )
        self.dead = Counter(
            "bridge_deliveries_dead_total", "Deliveries given up", ["platform"], registry=r
        )
        self.deadlines = Counter(
            "bridge_deadlines_fired_total", "Deadlines fired", ["kind"], registry=r
        )
        self.duplicates = Counter(
            "bridge_duplicate_events_total",
            "Platform events seen again and ignored",
            ["platform"],
            registry=r,
        )
        self.inbox = Counter(
            "bridge_inbox_events_total",
            "Incoming events stored (stored), stored before (again), resumed after a crash",
            ["platform", "what"],
            registry=r,
        )
        self.outbox = Gauge(
            "bridge_outbox_rows",
            "Outbox rows by status (pending = backlog)",
            ["status"],
            registry=r,
        )
        self.adapter_up = Gauge(
            "bridge_adapter_ready", "1 when the adapter is ready", ["platform"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
