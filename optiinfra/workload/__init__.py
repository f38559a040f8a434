"""Workload simulator: every customer's serving fleet, as metrics in ClickHouse each second."""
