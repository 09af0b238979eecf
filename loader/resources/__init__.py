"""The resource catalogue: every sheet pbload reads, in the order it loads them."""

from loader.resources.base import Field, Kind, Resource, normalize_header
from loader.resources.products import PRODUCTS

RESOURCES: tuple[Resource, ...] = (PRODUCTS,)
BY_NAME = {r.name: r for r in RESOURCES}

__all__ = ["BY_NAME", "RESOURCES", "Field", "Kind", "Resource", "normalize_header"]
