"""State: what one run leaves for the next (baselines of accepted findings)."""
