"""What Zoom told the bot about a session's meeting, and the Zoom calls it still owes."""
