"""Use cases: the operations of the scheduler, written against the store ports only."""
