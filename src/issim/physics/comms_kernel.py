"""The communications links' frame as one compiled kernel (numba).

:class:`~issim.physics.comms.Comms` describes the model; this is the part of its frame
that runs every frame (which links are up, which segments are in contact, what the radios
draw), with the arithmetic of the numpy reference (``Comms.update_reference``), so the two
agree (``tests/test_comms_kernel.py``, and the golden telemetry). The relay sessions, the
running totals and the message queue stay in Python. No ``fastmath``;
numba's ``error_model="numpy"``: a division by zero gives IEEE's inf or nan, as numpy
does, and no check for it is made at each division (every divisor here is guarded or
positive).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..sim.kernel_stamp import stamp_with_callees
from . import unmanaged
from .unmanaged import stack_empty, stack_zeros


@njit(cache=True, error_model="numpy")
def links_frame(link_ok, bus, relay_clearance_km, relay_scheduled, relay_allowed, site_elevation_deg,
                link_up, contact, power, segment_power, link_seg, relay_targets, site_cols, site_mask_deg,
                power_full_w):
    """One frame of the links, in place (``link_up``, ``contact``, ``power``,
    ``segment_power``). ``relay_allowed``: the relays not held back by their sessions now.
    Returns whether a segment's contact changed."""
    nl = link_ok.size
    nr = relay_scheduled.size
    ns = contact.size
    relay_ok = stack_empty(nr, np.bool_)
    for r in range(nr):
        relay_ok[r] = relay_clearance_km[r] > 0.0 and relay_scheduled[r] and relay_allowed[r]
    now = stack_zeros(ns, np.bool_)
    for s in range(ns):
        segment_power[s] = 0.0
    for i in range(nl):
        ok = link_ok[i] and bus[link_seg[i]]
        served = False
        for r in range(nr):
            if relay_targets[i, r] and relay_ok[r]:
                served = True
                break
        if not served:
            for c in range(site_cols.size):
                if site_elevation_deg[site_cols[c]] >= site_mask_deg[i, c]:
                    served = True
                    break
        up = served and ok
        link_up[i] = up
        if up:
            now[link_seg[i]] = True
        power[i] = power_full_w[i] * ok
        segment_power[link_seg[i]] += power[i]
    changed = False
    for s in range(ns):
        changed = changed or now[s] != contact[s]
        contact[s] = now[s]
    return changed


# (its code holds unmanaged's stack arrays)
STAMPED = stamp_with_callees(links_frame, (unmanaged,))
