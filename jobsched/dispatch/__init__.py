"""Dispatch: slots, claims, finishes, reservations, recovery. The same code drives the Step
Functions state machine on AWS and the local dispatcher loop."""
