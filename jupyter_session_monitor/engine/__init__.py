"""The tracked sessions and their polling: tracking, reads, what changed, the scheduler."""
