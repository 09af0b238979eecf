"""The resource catalogue: every sheet pbload reads, in the order it loads them (dependencies first)."""

from loader.resources.asns import ASNS
from loader.resources.base import Field, Kind, Resource, normalize_header
from loader.resources.boms import BOMS
from loader.resources.orders import ORDERS
from loader.resources.products import PRODUCTS
from loader.resources.returns import RETURNS
from loader.resources.work_orders import WORK_ORDERS

# Products before the kits made of them, kits before the work orders that build them, stock (ASNs)
# before the orders that use it, orders before their returns.
RESOURCES: tuple[Resource, ...] = (PRODUCTS, BOMS, WORK_ORDERS, ASNS, ORDERS, RETURNS)
BY_NAME = {r.name: r for r in RESOURCES}

__all__ = ["BY_NAME", "RESOURCES", "Field", "Kind", "Resource", "normalize_header"]
