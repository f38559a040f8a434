"""Portal: the customer-facing API and WebSocket; authenticates and forwards to the orchestrator."""
