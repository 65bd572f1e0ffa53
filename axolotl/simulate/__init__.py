"""A deterministic network simulator for the retry layer (``axolotl simulate``).

:mod:`.network` runs devices over a simulated server with faults;
:mod:`.crash` kills a device at a chosen store write;
:mod:`.stores` keeps their state in memory, SQLite files or PostgreSQL;
:mod:`.run` drives a conversation through it and builds the report.
"""

from axolotl.simulate.crash import Crash
from axolotl.simulate.network import Device, Faults, Network
from axolotl.simulate.run import SimulationConfig, SimulationReport, simulate
from axolotl.simulate.stores import DeviceStores, MemoryStores, PostgresStores, SQLiteStores

__all__ = [
    "Crash",
    "Device",
    "DeviceStores",
    "Faults",
    "MemoryStores",
    "Network",
    "PostgresStores",
    "SQLiteStores",
    "SimulationConfig",
    "SimulationReport",
    "simulate",
]
