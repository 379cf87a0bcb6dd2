"""Pure: the records of tracked sessions and what they cost, their views and receipts. No I/O."""
