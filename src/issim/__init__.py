"""issim: a simulator of the International Space Station and of the people aboard it.

The everyday names live in the subpackages: :mod:`issim.orbit` for where the station
is and when it passes, :mod:`issim.station` for the station described as data.
"""

__version__ = "0.1.0"
