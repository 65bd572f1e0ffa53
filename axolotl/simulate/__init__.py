"""A deterministic network simulator for the retry layer (``axolotl simulate``).

:mod:`.network` runs devices over a simulated server with faults;
:mod:`.run` drives a conversation through it and builds the report.
"""

from axolotl.simulate.network import Crash, Device, Faults, Network
from axolotl.simulate.run import SimulationConfig, SimulationReport, simulate

__all__ = [
    "Crash",
    "Device",
    "Faults",
    "Network",
    "SimulationConfig",
    "SimulationReport",
    "simulate",
]
