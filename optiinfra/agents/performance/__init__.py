"""Performance agent: latency and throughput from ClickHouse; validates predicted
and canary latency."""
