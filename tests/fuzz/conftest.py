"""Fuzz fixtures: the transport tests' workflows on the in-process executor (shared, not copied)."""

from tests.runtime.transport.conftest import alice, stop_runs_left_behind, transport_workflows

__all__ = ["alice", "stop_runs_left_behind", "transport_workflows"]
