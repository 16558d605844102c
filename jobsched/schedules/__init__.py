"""Schedules: the expression engine, the EventBridge Scheduler sync port, the schedule use cases
and the fire."""
