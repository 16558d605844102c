"""DynamoDB call counting for tests: the meter lives in the adapters, so bench/ shares it."""

from jobsched.adapters.dynamodb.metering import CallMeter, MeteredCall

__all__ = ["CallMeter", "MeteredCall"]
