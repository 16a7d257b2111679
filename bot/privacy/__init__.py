"""Participants' data rights: the privacy notice, a person's data exported or erased, and
retention (purge). Small groups in breakdowns: `bot.report.small_groups`."""
