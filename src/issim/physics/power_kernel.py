"""The power frame as one compiled kernel (numba).

:class:`~issim.physics.power.Power` describes the model; this is its frame (generation,
the loads asked for, the two buses balanced, the converters, shedding and the battery) in
one call, with the arithmetic of the Python reference (``Power.update_reference`` and
:func:`~issim.physics.power.balance`) done in the same order, so the two agree to
rounding (``tests/test_power_kernel.py``, and the golden telemetry). The kernel writes the
state arrays in place and says what happened; the log entries (a bus down or back,
shedding started or ended) and the running totals are written in Python by the caller.
No ``fastmath``: IEEE results as written;
numba's ``error_model="numpy"``: a division by zero gives IEEE's inf or nan, as numpy
does, and no check for it is made at each division (every divisor here is guarded or
positive).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..sim.kernel_stamp import stamp_with_callees
from . import kernel_args, unmanaged
from .kernel_args import N_EVENTS
from .unmanaged import stack_empty, stack_zeros

@njit(cache=True, error_model="numpy")
def balance(supply_w, tiers, energy_j, bat, dt_s, shedding, served):
    """:func:`issim.physics.power.balance` on arrays: ``tiers`` in rising priority, the last
    the essentials; ``bat`` a row of :data:`~.kernel_args.BATTERY`; ``served`` (one shorter than
    ``tiers``) is written. Returns ``(used_w, energy_j, ok, short)``."""
    cap_j, limit_w, eta_c, eta_d = bat[0], bat[1], bat[2], bat[3]
    floor_soc, empty_soc = bat[5], bat[6]
    n = tiers.size - 1
    ess = tiers[n]
    from_supply = ess if ess < supply_w else supply_w
    need = ess - from_supply
    left = supply_w - from_supply
    battery_w = 0.0
    for i in range(n):
        served[i] = 0.0
    if need > 0.0:
        to_empty = min(limit_w, max(energy_j - empty_soc * cap_j, 0.0) * eta_d / dt_s)
        if need > to_empty * (1.0 + 1e-12):  # the bus cannot be carried: only charge
            room = max(cap_j - energy_j, 0.0) / (eta_c * dt_s)
            charge = min(min(supply_w, limit_w), room)
            return charge, energy_j + charge * eta_c * dt_s, False, True
        battery_w = need
    charge = 0.0
    room = max(cap_j - energy_j, 0.0) / (eta_c * dt_s)
    if shedding:
        if battery_w == 0.0 and left > 0.0:
            charge = min(min(left, limit_w), room)
            left -= charge
        budget = 0.0
    else:
        budget = min(limit_w, max(energy_j - floor_soc * cap_j, 0.0) * eta_d / dt_s) - battery_w
    short = False
    for i in range(n - 1, -1, -1):
        want = tiers[i]
        s = want if want < left else left
        left -= s
        more = want - s
        if more > 0.0:
            if budget > 0.0:
                got = more if more < budget else budget
                budget -= got
                battery_w += got
                s += got
                more -= got
            if more > 1e-9 * (want + 1.0):
                short = True
        served[i] = s
    if not shedding and battery_w == 0.0 and left > 0.0:
        charge = min(min(left, limit_w), room)
        left -= charge
    used = supply_w - left
    energy_j = energy_j + (charge * eta_c - battery_w / eta_d) * dt_s
    return used, energy_j, True, short


@njit(cache=True, error_model="numpy")
def power_frame(wing_ok, ls_w, comms_w, has_ls, has_comms, open_,
                held, seen, cut, tripped, energy, conv_on_arr, shedding, bus,
                available, generated, load, shed, soc, soc_min, soc_max, transfer,
                wing_w, fan_w, p, bat, out, events, lost_arr, sunlit, beta_deg, dt_s):
    """One frame of power, in place. ``p``, ``bat``: from :func:`~.kernel_args.pack_power`; ``out``, ``events``:
    written (see :data:`~.kernel_args.OUT_TOTALS`); ``lost_arr[0]``: attitude lost. Returns whether
    anything is to be logged."""
    lost = lost_arr[0]
    held_pointing, lost_pointing, ros_sun_w, eta, eta_conv, conv_cap = p[0], p[1], p[2], p[3], p[4], p[5]
    lu_ess, lu_hk, lu_pl, lr_ess, lr_hk, lr_pl = p[6], p[7], p[8], p[9], p[10], p[11]
    ub, rb = bat[0], bat[1]
    for k in range(N_EVENTS):
        events[k] = 0

    # generation available
    if sunlit:
        if lost:
            fu = fr = lost_pointing
        else:
            fu = held_pointing
            fr = fu * abs(math.cos(math.radians(beta_deg)))
        wings = 0.0
        for i in range(wing_w.size):
            if wing_ok[i]:
                wings += wing_w[i]
        avail_u = wings * fu
        avail_r = ros_sun_w * fr
    else:
        avail_u = avail_r = 0.0

    # loads asked for: life support and communications, fans
    if has_ls or has_comms:
        lsu = ls_w[0] if has_ls else 0.0
        lsr = ls_w[1] if has_ls else 0.0
        if has_comms:
            lsu += comms_w[0]
            lsr += comms_w[1]
        if seen[0]:
            held[0] = lsu
        if seen[1]:
            held[1] = lsr
    ls_u, ls_r = held[0], held[1]
    fan_u = fan_r = 0.0
    for j in range(open_.size):
        if open_[j]:
            fan_u += fan_w[0, j]
            fan_r += fan_w[1, j]
    ess_u = lu_ess + ls_u + fan_u
    ess_r = lr_ess + ls_r + fan_r
    demand_u = ess_u + lu_hk + lu_pl
    demand_r = ess_r + lr_hk + lr_pl

    e_u, e_r = energy[0], energy[1]
    conv_on = conv_on_arr[0]
    cut_u, cut_r = cut[0], cut[1]
    trip_u, trip_r = tripped[0], tripped[1]

    # a bus down short of power is tried again (see Power.update_reference)
    try_u = trip_u and not cut_u and (avail_u * eta >= ess_u or e_u >= ub[5] * ub[0])
    up_u = not cut_u and (not trip_u or try_u)
    try_r = trip_r and not cut_r and (
        avail_r + (conv_cap if conv_on and up_u else 0.0) >= ess_r or e_r >= rb[5] * rb[0])
    up_r = not cut_r and (not trip_r or try_r)

    # what the ROS asks of the converters
    tiers_r = stack_zeros(3, np.float64)
    if up_r:
        tiers_r[0], tiers_r[1], tiers_r[2] = lr_pl, lr_hk, ess_r
    request = request_ess = 0.0
    if conv_on and up_u:
        want = (rb[0] - e_r) / (rb[2] * dt_s) if sunlit else 0.0
        want = min(max(want, 0.0), rb[1])
        request = min(conv_cap, max(0.0, tiers_r[0] + tiers_r[1] + tiers_r[2] - avail_r + want))
        request_ess = min(request, max(0.0, tiers_r[2] - avail_r))

    # the USOS bus, at the array side
    tiers_u = stack_zeros(4, np.float64)
    own_ess = 0.0
    if up_u:
        own_ess = ess_u / eta
        tiers_u[0], tiers_u[1] = lu_pl / eta, lu_hk / eta
        tiers_u[2], tiers_u[3] = (request - request_ess) / eta_conv, own_ess + request_ess / eta_conv
    shed_u_mode, shed_r_mode = shedding[0], shedding[1]
    served_u = stack_empty(3, np.float64)
    used_u, e_u2, ok, short_u = balance(avail_u, tiers_u, e_u, ub, dt_s, shed_u_mode, served_u)
    if not ok:
        if not try_u:
            tripped[0] = True
            events[0] = 1
            out[10], out[11] = ess_u, avail_u * eta
        up_u = False
        own_ess, request_ess = 0.0, 0.0
        for k in range(4):
            tiers_u[k] = 0.0
    elif try_u:
        tripped[0] = False
        events[1] = 1
    delivered = served_u[2] * eta_conv + request_ess

    served_r = stack_empty(2, np.float64)
    used_r, e_r2, ok, short_r = balance(avail_r + delivered, tiers_r, e_r, rb, dt_s, shed_r_mode, served_r)
    if not ok:
        if not try_r:
            tripped[1] = True
            events[2] = 1
            out[12], out[13] = ess_r, avail_r + delivered
        up_r = False
        for k in range(3):
            tiers_r[k] = 0.0
    elif try_r:
        tripped[1] = False
        events[3] = 1
    gen_r = used_r if used_r < avail_r else avail_r
    delivered = used_r - gen_r

    # served and shed loads, on each segment's user bus
    if up_u:
        load_u = (served_u[0] + served_u[1] + own_ess) * eta
        shed_u = (tiers_u[0] - served_u[0] + tiers_u[1] - served_u[1]) * eta + (tiers_u[2] - served_u[2]) * eta_conv
    else:
        load_u, shed_u = 0.0, (0.0 if cut_u else demand_u)
    if up_r:
        load_r = served_r[0] + served_r[1] + tiers_r[2]
        shed_r = tiers_r[0] - served_r[0] + tiers_r[1] - served_r[1]
    else:
        load_r, shed_r = 0.0, (0.0 if cut_r else demand_r)

    # shedding starts when a bus runs short and lasts until its battery is back in band
    if short_u or short_r or shed_u_mode or shed_r_mode:
        for s in range(2):
            short = short_u if s == 0 else short_r
            e = e_u2 if s == 0 else e_r2
            if short and not shedding[s]:
                shedding[s] = True
                events[4 + s] = 1
            elif shedding[s] and e >= bat[s, 4] * bat[s, 0]:
                shedding[s] = False
                events[4 + s] = -1

    bus[0], bus[1] = up_u, up_r
    seen[0], seen[1] = up_u, up_r
    available[0], available[1] = avail_u, avail_r
    generated[0], generated[1] = used_u, gen_r
    load[0], load[1] = load_u, load_r
    shed[0], shed[1] = shed_u, shed_r
    energy[0], energy[1] = e_u2, e_r2
    soc_u, soc_r = e_u2 / ub[0], e_r2 / rb[0]
    soc[0], soc[1] = soc_u, soc_r
    if soc_u < soc_min[0]:
        soc_min[0] = soc_u
    if soc_r < soc_min[1]:
        soc_min[1] = soc_r
    if soc_u > soc_max[0]:
        soc_max[0] = soc_u
    if soc_r > soc_max[1]:
        soc_max[1] = soc_r
    transfer[0] = delivered

    out[0], out[1], out[2], out[3] = used_u * dt_s, gen_r * dt_s, load_u * dt_s, load_r * dt_s
    out[4], out[5] = delivered * dt_s, dt_s
    out[6] = shed_u * dt_s if shed_u else 0.0
    out[7] = shed_r * dt_s if shed_r else 0.0
    out[8] = 0.0 if up_u else dt_s
    out[9] = 0.0 if up_r else dt_s
    logged = False
    for k in range(N_EVENTS):
        logged = logged or events[k] != 0
    return logged


# (its code holds unmanaged's stack arrays)
STAMPED = stamp_with_callees(power_frame, (kernel_args, unmanaged))
