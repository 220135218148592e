"""The registries: indicators, essential public services and reporting units.

>>> reg = load_registry()
>>> reg.indicators["DVC_ONLINE_RECEIVED"].denominator_kind
'total'
"""

from ingest.registry.catalog import (
    NO_SERVICE,
    Check,
    Indicator,
    Registry,
    RegistryError,
    Service,
    Succession,
    Unit,
    load_plan_tasks,
    load_registry,
)

__all__ = [
    "NO_SERVICE",
    "Check",
    "Indicator",
    "Registry",
    "RegistryError",
    "Service",
    "Succession",
    "Unit",
    "load_plan_tasks",
    "load_registry",
]
