"""Security sweep fixtures: the transport tests' workflows and users (shared, not copied)."""

from tests.runtime.transport.conftest import alice, mallory, stop_runs_left_behind, transport_workflows

__all__ = ["alice", "mallory", "stop_runs_left_behind", "transport_workflows"]
