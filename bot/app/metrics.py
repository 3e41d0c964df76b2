"""Prometheus metrics (prometheus-client): jobs, CometAPI calls, delivery latency, poll cycles."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.store import JobStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One registry per bot, so tests (and several bots in one process) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Gauge(
            "chorus_jobs", "Jobs in the store by state and provider", ["state", "provider"], registry=self.registry
        )
        self.cometapi_calls = Counter(
            "chorus_cometapi_calls", "CometAPI requests by endpoint", ["endpoint"], registry=self.registry
        )
        self.cometapi_errors = Counter(
            "chorus_cometapi_errors", "Failed CometAPI requests by endpoint and error", ["endpoint", "error"],
            registry=self.registry,
        )
        self.cometapi_seconds = Histogram(
            "chorus_cometapi_request_seconds", "CometAPI request duration", ["endpoint"], registry=self.registry
        )
        self.delivery_latency = Histogram(
            "chorus_delivery_latency_seconds",
            "From CometAPI finishing a job to its post in Discord",
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
            registry=self.registry,
        )
        self.poll_cycle = Histogram(
            "chorus_poll_cycle_seconds", "Duration of one poll cycle",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=self.registry,
        )

    def observe_call(self, endpoint: str, outcome: str, seconds: float) -> None:
        """The CometAPI transport's observer: one call per attempt."""
        self.cometapi_calls.labels(endpoint).inc()
        self.cometapi_seconds.labels(endpoint).observe(seconds)
        if outcome != "ok":
            self.cometapi_errors.labels(endpoint, outcome).inc()

    def observe_cycle(self, seconds: float) -> None:
        """Record how long one poll cycle took."""
        self.poll_cycle.observe(seconds)

    def observe_delivery(self, latency: float) -> None:
        """Record the time from CometAPI finishing a job to its post in Discord."""
        self.delivery_latency.observe(max(latency, 0.0))

    async def render(self, store: JobStore) -> bytes:
        """The exposition text, with the job counts read fresh from the store."""
        self.jobs.clear()
        for state, provider, count in await store.count_by_state():
            self.jobs.labels(state, provider).set(count)
        return generate_latest(self.registry)
