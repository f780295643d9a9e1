"""The conversation engine: the state machine turn, triage, scoring and the result."""
