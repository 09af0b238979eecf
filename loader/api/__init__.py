"""The Fulfillment API client: auth, transport, responses. Knows JSON, not spreadsheets."""

from loader.api.breaker import BREAKER_THRESHOLD, ApiDownError
from loader.api.client import ApiResponse, FulfillmentClient, NoAnswerError
from loader.api.error_body import ErrorDetail, describe_errors, parse_errors

__all__ = [
    "BREAKER_THRESHOLD",
    "ApiDownError",
    "ApiResponse",
    "ErrorDetail",
    "FulfillmentClient",
    "NoAnswerError",
    "describe_errors",
    "parse_errors",
]
