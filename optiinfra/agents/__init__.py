"""The four agents: workers on Redis Streams, one module each, sharing ``runtime``."""
