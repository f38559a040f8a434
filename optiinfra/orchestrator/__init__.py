"""Orchestrator: owns the workflow and its state in Postgres, dispatches work to agents."""
