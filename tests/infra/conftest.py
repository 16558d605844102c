"""Shared setup of the CDK tests."""

import os

# jsii starts its Node kernel on the first aws_cdk import and prints a red banner on Node 20;
# set before any test module imports aws_cdk.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
