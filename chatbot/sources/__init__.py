"""Ticket sources: bundled demo, JSON Lines imports, GitHub. Sources only write to the store."""
