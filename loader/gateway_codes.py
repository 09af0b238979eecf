"""PB's gateway codes that steer pbload: the API client acts on them, and the result's hints name them.

Plain values, in a module of their own outside `loader.api`, so that a result workbook knows them
without importing the HTTP client (that import was a fifth of writing 100,000 rows in a process that
had not sent them).
"""

GATEWAY_CODE_PREFIX = "PB-APIM-ERR-"  # PB's API gateway: it answered, not the Fulfillment service
# §21.4, §22.9: "Invalid Access Token" and "expired token". PB has been seen to send them with 401 and
# with 400; either way a new token is fetched and the request sent once more.
TOKEN_RENEWAL_CODES = frozenset({"PB-APIM-ERR-1002", "PB-APIM-ERR-1003"})
# §21.4, §22.9: PB's gateway stopped the request before it reached PB ("Spike arrest violation").
# It has been seen with HTTP 429 and with HTTP 500; whatever the status, it is a throttle: certainly
# not carried out, so slow down and send it again after a pause.
THROTTLE_CODES = frozenset({"PB-APIM-ERR-1006"})
