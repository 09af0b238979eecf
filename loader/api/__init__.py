"""The Fulfillment API client: auth, transport, responses. Knows JSON, not spreadsheets."""

from loader.api.client import ApiResponse, ErrorDetail, FulfillmentClient

__all__ = ["ApiResponse", "ErrorDetail", "FulfillmentClient"]
