"""The Fulfillment API client: auth, transport, responses. Knows JSON, not spreadsheets."""

from loader.api.client import ApiResponse, FulfillmentClient
from loader.api.error_body import ErrorDetail, describe_errors, parse_errors

__all__ = ["ApiResponse", "ErrorDetail", "FulfillmentClient", "describe_errors", "parse_errors"]
