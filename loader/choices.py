"""The names the command line shows before it runs anything: option defaults and choices.

`pbload --help` must not pay for pandas, httpx or the emulator, so the few constants its options need
live here, in a module that imports nothing. The emulator's credentials are defined here (`loader.settings`
takes them from here); the environment names and the `advance` names are copies of those in
`loader.settings` and `loader.emulator.control` (modules too heavy to import for a help text), and
tests/test_startup.py checks that they agree.
"""

ENVIRONMENTS = ("local", "sandbox", "production")  # loader.settings.ENVIRONMENTS
# The credentials the built-in emulator accepts.
LOCAL_CLIENT_ID = "pbload-local"
LOCAL_API_KEY = "local-key"
LOCAL_API_SECRET = "local-secret"
# What people type for `pbload emulator advance` (the keys of loader.emulator.control.ADVANCE_NAMES).
ADVANCE_RESOURCES = (
    "asn",
    "asns",
    "order",
    "orders",
    "return",
    "returns",
    "work-order",
    "work-orders",
    "workorder",
)
