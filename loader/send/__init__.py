"""Send: each resource's items to its API operations, and the outcome of every item (DESIGN §3).

Three ways of sending, chosen per resource by `sender_for`:

* products go to their bulk endpoint with an explicit CREATE or UPDATE per item (`products`);
* orders and returns are looked up by client key, then sent in bulk (`keyed.BulkSender`);
* ASNs, bills of materials and work orders have no bulk endpoint: they are looked up by client
  key, then sent as concurrent single calls (`keyed.SingleSender`).
"""

from __future__ import annotations

from collections.abc import Callable

from loader.api import FulfillmentClient
from loader.resources import Resource
from loader.send.common import Progress, Recorder, Sender
from loader.send.keyed import BulkSender, SingleSender
from loader.send.products import ProductSender


def sender_for(resource: Resource, client: FulfillmentClient, chunk_size: int, concurrency: int,
               recorder: Recorder) -> Sender:
    """The sender that loads `resource`."""
    if resource.name == "products":
        return ProductSender(client, resource, chunk_size, concurrency, recorder)
    spec = resource.api
    if spec is None:
        raise ValueError(f"{resource.name} has no API to send it to")
    cls: Callable[..., Sender] = BulkSender if spec.bulk_path else SingleSender
    return cls(client, resource, spec, chunk_size, concurrency, recorder)


__all__ = ["Progress", "Recorder", "Sender", "sender_for"]
