"""The crew's bodies over a frame as one compiled kernel (numba).

:class:`~issim.physics.crew.Crew` describes the model; this is the common part of its frame:
what each body takes from and gives to the air of its volume (the schedule's rates,
integrated exactly), the water drunk and passed, and the check of whether anyone is being
harmed. The harm itself (deficits, injuries, deaths, the log), moves and events stay in
Python: they are rare. The arithmetic is that of the numpy reference
(``Crew.update_reference``), so the two agree to rounding (``tests/test_crew_kernel.py``).
No ``fastmath``;
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
def crew_frame(moles, pp, pressure, water_store, urine_tank, has_water, location, activity, alive, conscious,
               on_eva, departed, suit_s, deficit, injury, co2_symptom, cum, rate_min, schedule,
               segment_of_volume, kf, ki, totals, m0, m1, f0, f1, days, dt_s):
    """One frame of the bodies, in place (``kf``, ``ki``: the constants from
    :func:`~issim.physics.kernel_args.pack_crew`).
    Writes into ``totals`` (9 numbers) the eight totals (O2, CO2, vapour in mol; the same in
    kg; water drunk and urine in kg; NaN for the two water ones without a water store) and
    how many are alive; returns whether anyone is being harmed (then ``Crew._harm`` runs): 0 no
    one, 1 someone living is hurt and nothing else (no bad air, no spent suit, no living
    person's deficit), 2 anything more."""
    resting_rate, molar_mass = kf[0:3], kf[3:6]
    drink_kg_per_day, urine_kg_per_day, pp_o2_floor_pa, co2_onset_pa, armstrong_pa = kf[6], kf[7], kf[8], kf[9], kf[10]
    co2_symptom_pa = kf[11:]
    unconscious, dead, eva, o2, co2, h2o = ki[0], ki[1], ki[2], ki[3], ki[4], ki[5]
    n = location.size
    nv = moles.shape[0]
    kg = stack_empty((n, 3), np.float64)
    for i in range(n):
        for c in range(3):
            kg[i, c] = (cum[m1, i, c] + f1 * rate_min[m1, i, c]) - (cum[m0, i, c] + f0 * rate_min[m0, i, c])
            if days:
                kg[i, c] += days * cum[1440, i, c]
        activity[i] = schedule[m1, i]
        if not conscious[i]:
            for c in range(3):
                kg[i, c] = resting_rate[c] * (dt_s / 60.0) if alive[i] else 0.0
            activity[i] = unconscious if alive[i] else dead
    away = stack_empty(n, np.bool_)
    for i in range(n):
        away[i] = on_eva[i] or departed[location[i]]
        if away[i] and on_eva[i] and alive[i]:
            activity[i] = eva

    # the air: each volume's occupants breathe its O2 and give CO2 and vapour
    per_volume = stack_zeros((nv, 3), np.float64)
    for i in range(n):
        if not away[i]:
            for c in range(3):
                per_volume[location[i], c] += kg[i, c] / molar_mass[c]
    body = stack_empty((n, 3), np.float64)
    for i in range(n):
        for c in range(3):
            body[i, c] = kg[i, c]
    short = False
    for v in range(nv):
        short = short or per_volume[v, 0] > moles[v, o2]
    if short:  # not enough O2 somewhere: the occupants share it, CO2 in proportion
        share = stack_empty(nv, np.float64)
        for v in range(nv):
            share[v] = 1.0
        for v in range(nv):
            take = min(per_volume[v, 0], moles[v, o2])
            if per_volume[v, 0] > 0:
                share[v] = take / per_volume[v, 0]
            per_volume[v, 1] *= share[v]
            per_volume[v, 0] = take
        for i in range(n):
            body[i, 0] *= share[location[i]]
            body[i, 1] *= share[location[i]]
    totals[:] = 0.0
    for v in range(nv):
        moles[v, o2] -= per_volume[v, 0]
        moles[v, co2] += per_volume[v, 1]
        moles[v, h2o] += per_volume[v, 2]
        for c in range(3):
            totals[c] += per_volume[v, c]
    for i in range(n):
        for c in range(3):
            totals[3 + c] += body[i, c]

    # water: drunk from, and passed to, each person's segment
    if has_water:
        people = stack_zeros(water_store.size, np.float64)
        for i in range(n):
            people[segment_of_volume[location[i]]] += 1.0 if (alive[i] and not away[i]) else 0.0
        for s in range(water_store.size):
            drink = min(people[s] * (drink_kg_per_day * dt_s / 86_400.0), water_store[s])
            water_store[s] -= drink
            urine = people[s] * (urine_kg_per_day * dt_s / 86_400.0)
            urine_tank[s] += urine
            totals[6] += drink
            totals[7] += urine
    else:
        totals[6] = np.nan
        totals[7] = np.nan

    # harm: is anyone breathing bad air, out of suit time or short of breath (2), or only hurt (1)?
    harmed = 0
    for i in range(n):
        if alive[i]:
            totals[8] += 1.0
        loc = location[i]
        level = 0
        for limit in co2_symptom_pa:
            if pp[loc, co2] >= limit:
                level += 1
        co2_symptom[i] = level
        bad = pp[loc, o2] < pp_o2_floor_pa or pp[loc, co2] > co2_onset_pa or pressure[loc] < armstrong_pa
        if on_eva[i]:
            if alive[i]:
                suit_s[i] = max(suit_s[i] - dt_s, 0.0)
            bad = bad or suit_s[i] <= 0.0
        if bad:
            harmed = 2
        if alive[i]:
            if injury[i] != 0.0 and harmed == 0:
                harmed = 1
            for c in range(deficit.shape[1]):
                if deficit[i, c] != 0.0:
                    harmed = 2
    return harmed


# (its code holds unmanaged's stack arrays)
STAMPED = stamp_with_callees(crew_frame, (unmanaged,))
