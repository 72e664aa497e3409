"""Scale: device pools, endpoint failover, many episodes in one process, suites on Ray."""
