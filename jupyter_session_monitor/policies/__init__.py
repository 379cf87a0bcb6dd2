"""What the monitor does on its own or for the user: budgets, orphans, instances, actions."""
