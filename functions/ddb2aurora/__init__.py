"""ddb2aurora: replicate Amazon DynamoDB tables into Amazon Aurora MySQL."""

__version__ = "0.1.0"
