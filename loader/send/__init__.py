"""Send: each resource's items to its API operations, and the outcome of every item (DESIGN §3).

Every item is first looked up at PB by its client key; what PB already holds as the row says is
UNCHANGED and not sent. The rest goes out in one of two ways, chosen by the resource's `ApiSpec`:

* products, orders and returns in bulk calls of up to 200 items (`keyed.BulkSender`);
* ASNs, bills of materials and work orders, which have no bulk endpoint, as concurrent single
  calls (`keyed.SingleSender`).

Look-ups (`lookup.find_by_key`) go through every chunk of keys and every page. A sender's look-ups
and writes share one pool (`pool.Pool`): the chunks are looked up several at a time, each one's
writes leave as soon as it is settled, every answer is handed over as it arrives, and Ctrl-C stops
it within seconds. Single calls keep as many requests in flight as PB keeps up with
(`adaptive.AdaptiveLimit`).
"""

from __future__ import annotations

from loader.api import FulfillmentClient
from loader.resources import Resource
from loader.send.common import Progress, Recorder, Sender
from loader.send.keyed import BulkSender, KeyedSender, SingleSender
from loader.send.lookup import find_by_key, known_keys
from loader.send.pool import STOP_GRACE_SECONDS, Stopped


def sender_for(
    resource: Resource, client: FulfillmentClient, chunk_size: int, concurrency: int, recorder: Recorder
) -> Sender:
    """The sender that loads `resource`."""
    spec = resource.api
    if spec is None:
        raise ValueError(f"{resource.name} has no API to send it to")
    cls: type[KeyedSender] = BulkSender if spec.bulk_path else SingleSender
    return cls(client, resource, spec, chunk_size, concurrency, recorder)


__all__ = [
    "STOP_GRACE_SECONDS",
    "Progress",
    "Recorder",
    "Sender",
    "Stopped",
    "find_by_key",
    "known_keys",
    "sender_for",
]
