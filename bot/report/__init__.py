"""Session summaries, exports and the tour-wide report."""
