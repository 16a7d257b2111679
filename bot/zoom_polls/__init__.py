"""Polls on Zoom: a poll also created in the session's Zoom meeting, for people not in Slack,
and Zoom's answers merged into its results after the meeting. No Slack here.

- `rules`: Zoom's limits, the poll as Zoom takes it, reading and merging Zoom's answers (no I/O).
- `service`: `ZoomPolls`, the launch check (`PollService.launch_checks`) and the end hooks.
- `tasks`: the Zoom worker's handlers: create, fetch the answers, delete.
- `effects`: what they owe Slack (notes in the poll's thread, the results shown again).

The package imports nothing from itself here, so the views can read its limits cheaply.
"""
