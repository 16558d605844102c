"""Queue foresight: when each unit will start and finish, and what a change would do."""
