"""pbload: load Excel workbooks into the Pitney Bowes Fulfillment APIs."""

__version__ = "0.1.0"
