"""Participants' data rights: withdrawing a quote, a person's data exported or erased,
retention (purge), and the smallest group a breakdown shows."""
