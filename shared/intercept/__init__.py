"""Intercept: serverless customer intelligence for AWS.

The package is the Lambda layer's payload. Importing it is free: every submodule is imported
where it is used, so the light handlers never pay for scikit-learn, moto or terminal output.
"""

__version__ = "0.1.0"
