"""The codes :func:`issim.quiet.kernel.quiet_frames` answers and reads, without numba (a run
whose kernels were built ahead of time never imports it: :mod:`issim.sim.kernels`)."""

WHOLE, PHYSICS, AFTER_PHYSICS = 0, 1, 2  # why a call stopped (see issim.quiet.kernel)
MINUTE_MS, HOUR_MS = 60_000, 3_600_000  # (issim.agents.affect's)
CONTACT, PERSON_IN, DEAD, AT_LEAST_DEAD, NEVER = range(5)  # the triggers' conditions compiled there (QuietFrames)
