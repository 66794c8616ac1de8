"""Event tracking: what clients report (eventTrack) and what the server sees, stored append-only."""
