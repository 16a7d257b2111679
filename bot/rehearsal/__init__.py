"""The offline rehearsal of a whole session (`listening-bot rehearse`)."""
