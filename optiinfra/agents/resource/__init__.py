"""Resource agent: utilisation from ClickHouse; validates capacity for a migration."""
