"""`pbload doctor`: read-only calls on a real account that settle the contract's bets (api §21.8).

Three parts, kept apart so that the judging is easy to test:

* **Probing** (`guard`, `probe`): every request leaves through `Prober._send`, which first asks
  `check_read_only`. That allows only the token request, GETs, the six searches, and one products
  bulk call shaped as a refused update (`refused_update_probe`): one item, `operation: UPDATE`, a
  random SKU that cannot exist and no `details`, which PB must refuse, so it can create or change
  nothing. Anything else raises `WriteRefused` before a byte is sent. `collect` keeps what PB
  answered as `Evidence`.
* **Judging** (`answer`, `judge`, `facts`): pure functions from the JSON PB answered to one
  `Verdict` per bet: *confirmed* (PB used our name), *contradicted* (PB used another name, which the
  evidence names) or *not seen* (nothing came back to judge by). The facts beside the bets (error
  body shape, token fields, clock skew, latency, throttling) are pure functions too.
* **Reporting** (`report`, `run`): `run_doctor` makes the calls and returns a `DoctorReport`;
  `format_report` gives the lines the CLI prints. Nothing in this package prints.

No credential or token value ever reaches a report: of the token answer only the field names are
kept, and its values are hidden as soon as it arrives.
"""

from loader.api.retry import THROTTLE_CODES
from loader.doctor.answer import Answer, at, error_codes, finds, first_record, json_paths, records_of
from loader.doctor.facts import clock_skew, error_facts, error_shape, throttles, token_fields
from loader.doctor.guard import (
    PROBE_PREFIX,
    PROBES,
    Probe,
    WriteRefused,
    check_read_only,
    is_refused_update_probe,
    new_probe_key,
    refused_update_probe,
)
from loader.doctor.judge import (
    ADDRESS,
    CONFIRMED,
    CONTRADICTED,
    DIMENSION_OBJECT,
    LINES,
    NOT_SEEN,
    SHIPPING,
    Finding,
    Kind,
    Sample,
    Verdict,
    bom_components,
    bulk_result,
    dimension_units,
    holder,
    judge,
    key_lookup,
    sample_of,
    search_records,
    unit_cost,
    upc,
    verdict,
    weight,
    work_order_quantity,
)
from loader.doctor.probe import HIDDEN, Evidence, KeyProbe, Prober, collect, throttle_wait
from loader.doctor.report import EXIT_CONTRADICTED, EXIT_OK, DoctorReport, format_report, report_of
from loader.doctor.run import require_account, run_doctor

THROTTLE_CODE = min(THROTTLE_CODES)  # PB's gateway throttle (api §22.9), for a fake gateway's answer

__all__ = [
    "ADDRESS",
    "CONFIRMED",
    "CONTRADICTED",
    "DIMENSION_OBJECT",
    "EXIT_CONTRADICTED",
    "EXIT_OK",
    "HIDDEN",
    "LINES",
    "NOT_SEEN",
    "PROBES",
    "PROBE_PREFIX",
    "SHIPPING",
    "THROTTLE_CODE",
    "Answer",
    "DoctorReport",
    "Evidence",
    "Finding",
    "KeyProbe",
    "Kind",
    "Probe",
    "Prober",
    "Sample",
    "Verdict",
    "WriteRefused",
    "at",
    "bom_components",
    "bulk_result",
    "check_read_only",
    "clock_skew",
    "collect",
    "dimension_units",
    "error_codes",
    "error_facts",
    "error_shape",
    "finds",
    "first_record",
    "format_report",
    "holder",
    "is_refused_update_probe",
    "json_paths",
    "judge",
    "key_lookup",
    "new_probe_key",
    "records_of",
    "refused_update_probe",
    "report_of",
    "require_account",
    "run_doctor",
    "sample_of",
    "search_records",
    "throttle_wait",
    "throttles",
    "token_fields",
    "unit_cost",
    "upc",
    "verdict",
    "weight",
    "work_order_quantity",
]
