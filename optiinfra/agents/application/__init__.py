"""Application agent: quality baseline from ClickHouse; gates rollout steps on quality."""
