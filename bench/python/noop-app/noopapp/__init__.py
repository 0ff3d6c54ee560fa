"""noopapp: the no-op app of bench/round-latency.ts, for Python Flower."""
