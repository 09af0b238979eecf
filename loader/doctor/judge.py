"""The judging: pure functions from the JSON PB answered to one `Verdict` per bet (api §21.8).

A verdict is *confirmed* (PB used our name), *contradicted* (PB used another name, which the
evidence names) or *not seen* (nothing came back to judge by). Each judge looks at one sample record
or one answer and gives a `Finding`; `verdict` folds a bet's findings, and `judge` judges every bet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loader.bets import (
    ASN_LINES,
    BETS,
    BOM_COMPONENT_QUANTITY,
    BOM_COMPONENT_SKU,
    BULK_RESULT_ERRORS,
    BY_NUMBER,
    DIMENSION_UNITS,
    DIMENSIONS,
    ORDER_LINES,
    RETURN_ADDRESS,
    RETURN_LINES,
    RETURN_SHIPPING,
    SEARCH_RECORDS,
    SHIP_TO_ADDRESS,
    UNIT_COST,
    UPC_SOURCE,
    WEIGHT,
    WEIGHT_UNIT,
    WEIGHT_VALUE,
    WORK_ORDER_QUANTITY,
    Bet,
)
from loader.doctor.answer import (
    Answer,
    at,
    error_codes,
    field_names,
    finds,
    first_paths,
    first_record,
    is_number,
    is_objects,
    json_paths,
    last_name,
    path_depth,
    records_of,
)
from loader.doctor.guard import BY_PROBE, PROBES, PRODUCTS_ARRAY, SKU, Probe
from loader.doctor.probe import Evidence, KeyProbe

CONFIRMED, CONTRADICTED, NOT_SEEN = "confirmed", "contradicted", "not seen"

# Documented names doctor reads (not bets).
WORK_ORDER_DOC_FIELDS = frozenset(
    {"workOrderId", "workOrderName"}
)  # begin `workOrde` but are documented (§14.1)
DIMENSION_SIDES = ("length", "height", "width")  # api §22.5
DIMENSION_UNIT_FIELDS = ("dimensionUOM", "unitOfMeasurement")  # api §22.5: one or the other
IDENTIFIERS = "details.identifiers"  # api §22.4
BOM_COMPONENTS = "billOfMaterialDetails"  # api §13.1
ITEM_DETAIL = "itemDetail"  # a return line's SKU sits in it (api §22.7)
# What makes an object look like an address: PB's names (api §22.3) and the common other spellings.
ADDRESS_WORDS = frozenset(
    {
        "addressLines",
        "cityTown",
        "postalCode",
        "countryCode",
        "stateProvince",
        "addressLine1",
        "address1",
        "city",
        "zip",
        "zipCode",
        "postCode",
        "country",
    }
)
ERROR_WORDS = ("error", "message", "fault", "problem")


@dataclass(frozen=True)
class Finding:
    """One piece of evidence about a bet."""

    outcome: str
    evidence: str


@dataclass(frozen=True)
class Verdict:
    """A bet, what PB's answers say about it, and why."""

    bet: Bet
    outcome: str
    evidence: str


@dataclass(frozen=True)
class Sample:
    """The one record a search brought back for a resource, or why there is none."""

    noun: str
    record: dict[str, Any] | None
    why_none: str = ""


@dataclass(frozen=True)
class Kind:
    """What a holder should hold: at our name any object (array) will do, elsewhere only a convincing one."""

    ours: Callable[[Any], bool]
    elsewhere: Callable[[Any], bool]


def _address_like(value: Any) -> bool:
    return isinstance(value, dict) and len(ADDRESS_WORDS & set(value)) >= 2


def _lines_like(value: Any) -> bool:
    def has_sku(line: dict[str, Any]) -> bool:
        return SKU in line or isinstance(line.get(ITEM_DETAIL), dict) and SKU in line[ITEM_DETAIL]

    return is_objects(value) and any(has_sku(line) for line in value)


def _dimensions_like(value: Any) -> bool:
    return isinstance(value, dict) and len(set(DIMENSION_SIDES) & set(value)) >= 2


def _shipping_like(value: Any) -> bool:
    return isinstance(value, dict) and "carrier" in value  # api §22.1, §22.8


ADDRESS = Kind(lambda v: isinstance(v, dict), _address_like)
LINES = Kind(lambda v: isinstance(v, list), _lines_like)
DIMENSION_OBJECT = Kind(lambda v: isinstance(v, dict), _dimensions_like)
SHIPPING = Kind(lambda v: isinstance(v, dict), _shipping_like)


def sample_of(probe: Probe, answer: Answer | None) -> Sample:
    """The first record of a resource's search, or a sentence saying why there is none."""
    if answer is None:
        return Sample(probe.noun, None, f"no {probe.noun} search was made")
    if answer.throttled:
        return Sample(probe.noun, None, f"the {probe.noun} search was throttled")
    if not answer.ok:
        return Sample(
            probe.noun, None, f"the {probe.noun} search answered HTTP {answer.status}{_codes(answer)}"
        )
    record = first_record(answer)
    return Sample(probe.noun, record, "" if record else f"no {probe.noun} came back{probe.when_empty}")


def _codes(answer: Answer) -> str:
    codes = error_codes(answer.body)
    return f" ({', '.join(codes)})" if codes else ""


# The bets on where a record's fields live (BET-1 to BET-10) --------------------------------------


def holder(sample: Sample, ours: str, kind: Kind, what: str, prefer: str = "") -> Finding:
    """Judge a bet on where an object (array) lives: at `ours`, or elsewhere (named), or nowhere."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if kind.ours(at(sample.record, ours)):
        return Finding(CONFIRMED, f"{sample.noun} {what} in `{ours}`")
    others = sorted(
        (p for p, v in first_paths(sample.record).items() if p != ours and kind.elsewhere(v)),
        key=lambda p: (bool(prefer) and prefer not in p.lower(), path_depth(p)),
    )
    if others:
        return Finding(CONTRADICTED, f"{sample.noun} {what} in `{others[0]}`, not `{ours}`")
    return Finding(NOT_SEEN, f"no {what} in the {sample.noun}")


def upc(sample: Sample) -> Finding:
    """BET-3: a UPC's identifier source."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    identifiers = at(sample.record, IDENTIFIERS)
    entries = identifiers if isinstance(identifiers, list) else []
    sources = [str(i["source"]) for i in entries if isinstance(i, dict) and i.get("source") is not None]
    if UPC_SOURCE in sources:
        return Finding(CONFIRMED, f"an identifier of the product has source `{UPC_SOURCE}`")
    upc_like = [s for s in sources if "upc" in s.lower()]
    if upc_like:
        return Finding(CONTRADICTED, f"the product's UPC has source `{upc_like[0]}`, not `{UPC_SOURCE}`")
    if sources:
        return Finding(NOT_SEEN, f"the product's identifier sources are {', '.join(sources)}: none a UPC")
    return Finding(NOT_SEEN, f"no identifiers in the product's `{IDENTIFIERS}`")


def weight(sample: Sample) -> Finding:
    """BET-5: where a product's weight lives, and its two fields."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    value = at(sample.record, WEIGHT)
    if isinstance(value, dict):
        if WEIGHT_VALUE in value and WEIGHT_UNIT in value:
            return Finding(CONFIRMED, f"product weight in `{WEIGHT}` {field_names(value)}")
        return Finding(
            CONTRADICTED,
            f"product weight in `{WEIGHT}` holds {field_names(value)}, not {{{WEIGHT_VALUE}, {WEIGHT_UNIT}}}",
        )
    if value is not None:
        return Finding(CONTRADICTED, f"`{WEIGHT}` is a bare {type(value).__name__}, not an object")
    others = [p for p, _ in json_paths(sample.record) if "weight" in last_name(p).lower()]
    if others:
        return Finding(CONTRADICTED, f"product weight in `{others[0]}`, not `{WEIGHT}`")
    return Finding(NOT_SEEN, "no weight in the product")


def unit_cost(sample: Sample) -> Finding:
    """BET-6: where a product's unit cost lives."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if at(sample.record, UNIT_COST) is not None:
        return Finding(CONFIRMED, f"product unit cost in `{UNIT_COST}`")
    others = [p for p, v in json_paths(sample.record) if "cost" in last_name(p).lower() and is_number(v)]
    if others:
        return Finding(CONTRADICTED, f"product cost in `{others[0]}`, not `{UNIT_COST}`")
    return Finding(NOT_SEEN, "no unit cost in the product")


def dimension_units(sample: Sample) -> Finding:
    """BET-7: the unit values of a product's dimensions."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    dims = at(sample.record, DIMENSIONS)
    if not isinstance(dims, dict):
        dims = next((v for _, v in json_paths(sample.record) if _dimensions_like(v)), None)
    if dims is None:
        return Finding(NOT_SEEN, "no dimensions in the product")
    named = [f for f in DIMENSION_UNIT_FIELDS if f in dims]
    # A unit under a name PB's page does not give still tells the value.
    others = [k for k, v in dims.items() if k not in DIMENSION_SIDES and isinstance(v, str)]
    unit_field = (named or others or [None])[0]
    if unit_field is None:
        return Finding(NOT_SEEN, "the product's dimensions carry no unit")
    unit, where = dims[unit_field], "" if named else f" (in `{unit_field}`)"
    if unit in DIMENSION_UNITS:
        return Finding(CONFIRMED, f"the product's dimensions are in `{unit}`{where}")
    return Finding(
        CONTRADICTED,
        f"the product's dimensions are in `{unit}`{where}, not "
        + " or ".join(f"`{u}`" for u in DIMENSION_UNITS),
    )


def bom_components(sample: Sample) -> Finding:
    """BET-8: the fields of a BOM's component lines."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    components = sample.record.get(BOM_COMPONENTS)
    if not is_objects(components):
        others = [
            p
            for p, v in json_paths(sample.record)
            if is_objects(v) and any(str(k).lower().endswith("sku") for k in v[0])
        ]
        if others:
            return Finding(CONTRADICTED, f"BOM components in `{others[0]}`, not `{BOM_COMPONENTS}`")
        return Finding(NOT_SEEN, f"no components in the BOM's `{BOM_COMPONENTS}`")
    first = components[0]
    if BOM_COMPONENT_SKU in first and BOM_COMPONENT_QUANTITY in first:
        return Finding(CONFIRMED, f"BOM components hold `{BOM_COMPONENT_SKU}` and `{BOM_COMPONENT_QUANTITY}`")
    return Finding(
        CONTRADICTED,
        f"BOM components hold {field_names(first)}, not {{{BOM_COMPONENT_SKU}, {BOM_COMPONENT_QUANTITY}}}",
    )


def work_order_quantity(sample: Sample) -> Finding:
    """BET-9: the name of a work order's quantity."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if WORK_ORDER_QUANTITY in sample.record:
        return Finding(CONFIRMED, f"the work order has `{WORK_ORDER_QUANTITY}`")
    keys = [str(k) for k in sample.record if k not in WORK_ORDER_DOC_FIELDS]
    quantities = [k for k in keys if "quantit" in k.lower() or "qty" in k.lower()]
    others = quantities + [k for k in keys if k.startswith("workOrde") and k not in quantities]
    if others:
        return Finding(CONTRADICTED, f"the work order has `{others[0]}`, not `{WORK_ORDER_QUANTITY}`")
    return Finding(NOT_SEEN, "no quantity in the work order")


# The bets on how PB answers calls (BET-11 to BET-14) ---------------------------------------------


def bulk_result(answer: Answer | None, sku: str) -> Finding:
    """BET-11: how PB reports the refused item of the products bulk probe."""
    if answer is None:
        return Finding(
            NOT_SEEN, "the bulk probe was not sent (the GET of a random SKU did not answer not-found)"
        )
    if answer.throttled:
        return Finding(NOT_SEEN, "the bulk probe was throttled")
    if not answer.ok:
        return Finding(
            NOT_SEEN,
            f"PB refused the whole bulk probe (HTTP {answer.status}{_codes(answer)}), "
            "so no per-item result came back",
        )
    results, array = _bulk_results(answer.body)
    item = next((r for r in results if r.get(SKU) == sku), None)
    if item is None:
        if len(results) == 1:
            return Finding(CONTRADICTED, f"the item's result holds {field_names(results[0])}: no `{SKU}`")
        return Finding(NOT_SEEN, f"no result for the probe item in the HTTP {answer.status} answer")
    errors = item.get(BULK_RESULT_ERRORS)
    if isinstance(errors, list) and errors:
        if array != PRODUCTS_ARRAY:
            return Finding(
                CONTRADICTED, f"the refused item's result came in `{array}`, not `{PRODUCTS_ARRAY}`"
            )
        return Finding(
            CONFIRMED,
            f"the refused item came back as `{SKU}` + `{BULK_RESULT_ERRORS}` (HTTP {answer.status})",
        )
    other = [
        str(k) for k in item if k != BULK_RESULT_ERRORS and any(w in str(k).lower() for w in ERROR_WORDS)
    ]
    if other:
        return Finding(
            CONTRADICTED, f"the refused item's result holds `{other[0]}`, not `{BULK_RESULT_ERRORS}`"
        )
    return Finding(
        CONTRADICTED,
        f"PB answered HTTP {answer.status} with no errors for an UPDATE, without details, "
        f"of a SKU it does not have: look for product {sku} at PB",
    )


def _bulk_results(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(body, dict) and isinstance(body.get(PRODUCTS_ARRAY), list):
        return [r for r in body[PRODUCTS_ARRAY] if isinstance(r, dict)], PRODUCTS_ARRAY
    if isinstance(body, dict):
        return next(((v, str(k)) for k, v in body.items() if is_objects(v)), ([], None))
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)], "a bare array"
    return [], None


def search_records(searches: Mapping[str, Answer]) -> Finding:
    """BET-12: which array of each search answer holds its records."""
    found: dict[str, list[str]] = {}
    for probe in PROBES:
        answer = searches.get(probe.name)
        where = _records_key(answer.body) if answer is not None and answer.ok else None
        if where is not None:
            found.setdefault(where, []).append(probe.noun)
    others = [
        f"records in `{k}` ({', '.join(nouns)} search)" for k, nouns in found.items() if k != SEARCH_RECORDS
    ]
    if others:
        return Finding(CONTRADICTED, "; ".join(others))
    if SEARCH_RECORDS in found:
        return Finding(
            CONFIRMED,
            f"records in `{SEARCH_RECORDS}` ({len(found[SEARCH_RECORDS])} of {len(PROBES)} searches)",
        )
    return Finding(NOT_SEEN, "no search answer held an array")


def _records_key(body: Any) -> str | None:
    if isinstance(body, list):
        return "a bare array"
    if not isinstance(body, dict):
        return None
    if isinstance(body.get(SEARCH_RECORDS), list):
        return SEARCH_RECORDS
    lists = [str(k) for k, v in body.items() if isinstance(v, list)]
    return next((str(k) for k, v in body.items() if is_objects(v)), lists[0] if lists else None)


def key_lookup(probe: Probe, sample: Sample, lookup: KeyProbe | None) -> Finding:
    """BET-13 and BET-14: whether a search by the record's own key finds that record, and only it."""
    if sample.record is None:
        return Finding(NOT_SEEN, sample.why_none)
    if lookup is None:
        return Finding(NOT_SEEN, f"the {probe.noun} has no `{probe.key_field}` to look it up by")
    own, by = (
        lookup.own,
        f"`{lookup.name}`" + ("" if lookup.name == lookup.field else f" = its `{lookup.field}`"),
    )
    if own.throttled or (not own.ok and own.status not in (400, 404, 422)):
        return Finding(NOT_SEEN, f"the {probe.noun} search by {by} answered HTTP {own.status}{_codes(own)}")
    if own.status in (400, 422):
        return Finding(
            CONTRADICTED, f"PB refused the search name `{lookup.name}` (HTTP {own.status}{_message(own)})"
        )
    if not finds(own, lookup.field, lookup.value):
        if probe.pb_id and finds(lookup.by_pb_id, probe.pb_id, sample.record.get(probe.pb_id)):
            return Finding(
                CONTRADICTED,
                f"`{lookup.name}` found the {probe.noun} by PB's `{probe.pb_id}`, "
                f"not by its `{lookup.field}`",
            )
        return Finding(CONTRADICTED, f"a search by {by} did not return {probe.noun} {lookup.value}")
    absent = lookup.absent
    if absent is not None and absent.ok and records_of(absent.body):
        return Finding(
            CONTRADICTED,
            f"PB seems to ignore `{lookup.name}`: a search for a key that cannot exist returned records",
        )
    return Finding(CONFIRMED, f"{probe.noun} {lookup.value} found again by {by}")


def _message(answer: Answer) -> str:
    # Only the first error's code and description (not `describe_errors`, which joins every error
    # and falls back to other text fields): the words doctor has always shown.
    body = answer.body
    entry = body["errors"][0] if isinstance(body, dict) and is_objects(body.get("errors")) else body
    if not isinstance(entry, dict):
        return ""
    text = ": ".join(str(entry[k]) for k in ("errorCode", "errorDescription") if entry.get(k))
    return f", {text}" if text else ""


# Every bet ---------------------------------------------------------------------------------------


def verdict(number: int, findings: Sequence[Finding]) -> Verdict:
    """A bet's verdict from its findings: any contradiction wins, then any confirmation."""
    outcomes = {f.outcome for f in findings}
    outcome = CONTRADICTED if CONTRADICTED in outcomes else CONFIRMED if CONFIRMED in outcomes else NOT_SEEN
    return Verdict(BY_NUMBER[number], outcome, "; ".join(dict.fromkeys(f.evidence for f in findings)))


def judge(evidence: Evidence) -> tuple[Verdict, ...]:
    """Every bet's verdict, in the order of `loader.bets.BETS`, from what PB answered."""
    s = {probe.name: sample_of(probe, evidence.searches.get(probe.name)) for probe in PROBES}
    product, order, asn, bom, work_order, ret = (s[p.name] for p in PROBES)

    def looked_up(*names: str) -> list[Finding]:
        return [key_lookup(BY_PROBE[n], s[n], evidence.lookups.get(n)) for n in names]

    verdicts = (
        verdict(1, [holder(order, SHIP_TO_ADDRESS, ADDRESS, "ship-to address", prefer="ship")]),
        verdict(
            2,
            [
                holder(order, ORDER_LINES, LINES, "lines"),
                holder(asn, ASN_LINES, LINES, "lines"),
                holder(ret, RETURN_LINES, LINES, "lines"),
            ],
        ),
        verdict(3, [upc(product)]),
        verdict(4, [holder(product, DIMENSIONS, DIMENSION_OBJECT, "dimensions")]),
        verdict(5, [weight(product)]),
        verdict(6, [unit_cost(product)]),
        verdict(7, [dimension_units(product)]),
        verdict(8, [bom_components(bom)]),
        verdict(9, [work_order_quantity(work_order)]),
        verdict(
            10,
            [
                holder(ret, RETURN_SHIPPING, SHIPPING, "shipping details"),
                holder(ret, RETURN_ADDRESS, ADDRESS, "address"),
            ],
        ),
        verdict(11, [bulk_result(evidence.bulk, evidence.probe_key)]),
        verdict(12, [search_records(evidence.searches)]),
        verdict(13, looked_up("products", "orders", "asns", "work-orders")),
        verdict(14, looked_up("returns")),
    )
    assert [v.bet for v in verdicts] == list(BETS), "doctor judges every bet, in order"
    return verdicts
