"""The AWS CDK app: one construct per capability, composed by a thin stack.

`cdk.json` runs `infra/app.py`; tests build the same app in-process with `infra.build`.
"""
