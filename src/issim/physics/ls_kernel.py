"""The life-support machines' frame as one compiled kernel (numba).

:class:`~issim.physics.lifesupport.LifeSupport` describes the model; this is its machines'
frame (water processors, O2 generators, CO2 removers and condensers, their rates and
loads) in one call, with the arithmetic of the numpy reference
(``LifeSupport.update_reference``) done in the same order, so the two agree to rounding
(``tests/test_ls_kernel.py``, and the golden telemetry). The pressure control's float
arithmetic (``LifeSupport._pressure_control``) runs at the end of the same call, as written
there. What is rare or writes the log (a store running dry, releases, candles) stays in Python.
No ``fastmath``: IEEE results as written;
numba's ``error_model="numpy"``: a division by zero gives IEEE's inf or nan, as numpy
does, and no check for it is made at each division (every divisor here is guarded or
positive).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..sim.kernel_stamp import stamp_with_callees
from . import kernel_args, unmanaged
from .kernel_args import CANDLES, DRY_CHANGED, PCA_DREW, RELEASING
from .unmanaged import stack_empty, stack_zeros


@njit(cache=True, inline="always")
def _max(a, b):
    return b if b > a else a  # Python's max(a, b): the first of equals


@njit(cache=True, inline="always")
def _min(a, b):
    return b if b < a else a  # Python's min(a, b)


@njit(cache=True, error_model="numpy")
def machines_frame(moles, temp, on, broken, bus, producing, fixed, setpoint, dry, running, store, urine, waste,
                   rate, power, segment_power, tank, pca_adding, pca_kg_per_day, pending, candle_o2, fp, ip, sc, out,
                   dt_s):
    """One frame of the machines, then the pressure control, in place (``fp``, ``ip``, ``sc``:
    the parameters from :func:`~.kernel_args.pack_machines`). Writes into ``out``
    (:func:`~.kernel_args.out_size`) what each machine added to (or took from) the air in
    mol and moved in the water in kg, then the O2 and N2 mol the pressure control added;
    returns the code of :data:`DRY_CHANGED`, :data:`PCA_DREW`, and :data:`RELEASING` and
    :data:`CANDLES` (any of ``pending``, the tanks' gas still to release, or ``candle_o2``,
    the candles' O2 still to come, not zero)."""
    (r_over_v, p_max, p_recovery, o2_target, o2_stop, g_min, g_span, g_step, g_inv_step, floor_pa, k_per_s,
     neg_cap, condensate_per_mol, molar_mass, standby_w, span_w, inv_full_rate) = (
        fp[0], fp[1], fp[2], fp[3], fp[4], fp[5], fp[6], fp[7], fp[8], fp[9], fp[10], fp[11], fp[12], fp[13],
        fp[14], fp[15], fp[16])
    seg, mod, flat, p_in, p_out, r_group, g_stepped, is_gen = ip[0], ip[1], ip[2], ip[3], ip[4], ip[5], ip[6], ip[7]
    empty_kg, water_kg_per_kg_o2, o2_mol_per_kg_water, inv_band = sc[0], sc[1], sc[2], sc[3]
    r_n_groups = int(sc[4])
    r_shared = sc[5] != 0.0
    nm = seg.size
    days = dt_s / 86_400.0
    powered = stack_empty(nm, np.bool_)
    x = stack_empty(nm, np.float64)
    pa_per_mol = stack_empty(nm, np.float64)
    pp = stack_empty(nm, np.float64)
    for i in range(nm):
        powered[i] = on[i] and not broken[i] and bus[seg[i]]
        x[i] = moles[flat[i]]
        pa_per_mol[i] = temp[mod[i]] * r_over_v[i]
        pp[i] = x[i] * pa_per_mol[i]

    # water processors first, so that recovered water is there for the generators
    buf = stack_empty(6, np.float64)
    buf[0:2] = store
    buf[2:4] = urine
    buf[4:6] = waste
    done = stack_empty(nm, np.float64)
    kept = stack_empty(nm, np.float64)
    into = stack_zeros(6, np.float64)
    out_of = stack_zeros(6, np.float64)
    for i in range(nm):
        done[i] = min(max(buf[p_in[i]], 0.0), p_max[i] * days) * powered[i]
        kept[i] = done[i] * p_recovery[i]
        into[p_out[i]] += kept[i]
        out_of[p_in[i]] += done[i]
    for j in range(6):
        buf[j] += into[j] - out_of[j]
    store[:] = buf[0:2]
    urine[:] = buf[2:4]
    waste[:] = buf[4:6]

    # O2 generators: proportional control on the module's ppO2, with hysteresis
    water = stack_empty(nm, np.float64)
    demand = stack_zeros(2, np.float64)
    for i in range(nm):
        producing[i] = pp[i] < o2_stop[i] if producing[i] else pp[i] < o2_target[i]
        u = min(max((o2_target[i] - pp[i]) * inv_band, 0.0), 1.0)
        want = (g_min[i] + u * g_span[i]) * producing[i]
        if fixed[i]:
            want = setpoint[i]
        if g_stepped[i] != 0:
            want = np.rint(want * g_inv_step[i]) * g_step[i]
        water[i] = want * powered[i] * (water_kg_per_kg_o2 * days)
        demand[seg[i]] += water[i]
    used = stack_empty(nm, np.float64)
    if demand[0] <= max(store[0], 0.0) and demand[1] <= max(store[1], 0.0):
        for i in range(nm):
            used[i] = water[i]
        store[0] -= demand[0]
        store[1] -= demand[1]
    else:  # a segment runs out: its generators share what is left
        share = stack_empty(2, np.float64)
        share[0] = share[1] = 1.0
        for s in range(2):
            if demand[s] > 0:
                share[s] = min(1.0, max(store[s], 0.0) / demand[s])
        taken = stack_zeros(2, np.float64)
        for i in range(nm):
            used[i] = water[i] * share[seg[i]]
            taken[seg[i]] += used[i]
        store[0] -= taken[0]
        store[1] -= taken[1]
    o2 = stack_empty(nm, np.float64)
    for i in range(nm):
        o2[i] = used[i] * o2_mol_per_kg_water
    changed = False
    any_dry = False
    for i in range(nm):
        any_dry = any_dry or dry[i]
    if store[0] <= empty_kg or store[1] <= empty_kg or any_dry:
        for i in range(nm):
            out[2 * nm + 2 + i] = 1.0 if dry[i] else 0.0
        for i in range(nm):
            now = powered[i] and is_gen[i] != 0 and store[seg[i]] <= empty_kg
            changed = changed or now != dry[i]
            dry[i] = now
            running[i] = powered[i] and not now
    else:
        for i in range(nm):
            running[i] = powered[i]

    # CO2 removers and condensers: exact exponential approach to the floor, capped
    k = stack_empty(nm, np.float64)
    for i in range(nm):
        k[i] = k_per_s[i] * powered[i]
    k_air = k
    if r_shared:
        group = stack_zeros(r_n_groups, np.float64)
        for i in range(nm):
            group[r_group[i]] += k[i]
        k_air = stack_empty(nm, np.float64)
        for i in range(nm):
            k_air[i] = group[r_group[i]]
    delta = stack_zeros(moles.size, np.float64)
    gas = out[0:nm]
    water_moved = out[nm:2 * nm]
    segment_power[0] = 0.0
    segment_power[1] = 0.0
    cond_in = stack_zeros(2, np.float64)
    for i in range(nm):
        excess = max(x[i] - floor_pa[i] / pa_per_mol[i], 0.0)
        if r_shared:
            taken_i = np.expm1(k_air[i] * -dt_s) * (k[i] / (k_air[i] if k_air[i] > 0 else 1.0))
        else:
            taken_i = np.expm1(k[i] * -dt_s)
        removed = max(excess * taken_i, neg_cap[i] * dt_s)  # <= 0
        delta[flat[i]] += o2[i] + removed
        condensate = removed * -condensate_per_mol[i]
        cond_in[seg[i]] += condensate
        gas[i] = o2[i] - removed
        rate[i] = (gas[i] * molar_mass[i] + done[i]) * (1.0 / days)
        power[i] = (standby_w[i] + span_w[i] * min(rate[i] * inv_full_rate[i], 1.0)) * powered[i]
        segment_power[seg[i]] += power[i]
        water_moved[i] = used[i] + condensate + (done[i] - kept[i])
    for j in range(moles.size):
        moles[j] += delta[j]
    waste[0] += cond_in[0]
    waste[1] += cond_in[1]
    code = DRY_CHANGED if changed else 0

    # the pressure control: O2 and N2 from the tanks in its module, with hysteresis
    # (LifeSupport._pressure_control, the same float arithmetic in the same order)
    out[2 * nm] = 0.0
    out[2 * nm + 1] = 0.0
    pca = int(sc[6])
    if pca >= 0:
        q = int(sc[7])
        ns = moles.size // temp.size
        o2_start, o2_stop, n2_start, n2_stop = sc[9], sc[10], sc[11], sc[12]
        n_o2, n_n2, n_co2, n_h2o = moles[q * ns], moles[q * ns + 1], moles[q * ns + 2], moles[q * ns + 3]
        pa_per_mol = temp[q] * sc[8]
        pp_o2 = n_o2 * pa_per_mol
        p_total = (n_o2 + n_n2 + n_co2 + n_h2o) * pa_per_mol
        was_o2, was_n2 = pca_adding[0], pca_adding[1]
        add_o2 = powered[pca] and (pp_o2 < (o2_stop if was_o2 else o2_start))
        add_n2 = powered[pca] and (p_total < (n2_stop if was_n2 else n2_start))
        if add_o2 != was_o2 or add_n2 != was_n2:
            pca_adding[0] = add_o2
            pca_adding[1] = add_n2
        if not (add_o2 or add_n2):
            if rate[pca] != 0.0 or pca_kg_per_day[0] != 0.0 or pca_kg_per_day[1] != 0.0:
                rate[pca] = 0.0
                pca_kg_per_day[0] = 0.0
                pca_kg_per_day[1] = 0.0
        else:
            flow_kg = sc[15] * dt_s
            m_o2, m_n2 = sc[16], sc[17]
            mol_o2 = 0.0
            if add_o2:
                t = int(sc[13])
                need = _max(o2_stop - pp_o2, 0.0) / pa_per_mol
                mol_o2 = _min(need, _min(flow_kg, _max(tank[t], 0.0)) / m_o2)
                moles[q * ns] += mol_o2  # (O2 is species 0, N2 species 1)
                tank[t] -= mol_o2 * m_o2
            mol_n2 = 0.0
            if add_n2:
                t = int(sc[14])
                need = _max(n2_stop - p_total, 0.0) / pa_per_mol
                mol_n2 = _min(need, _min(flow_kg, _max(tank[t], 0.0)) / m_n2)
                moles[q * ns + 1] += mol_n2
                tank[t] -= mol_n2 * m_n2
            out[2 * nm] = mol_o2
            out[2 * nm + 1] = mol_n2
            per_day = sc[18] / dt_s
            pca_kg_per_day[0] = mol_o2 * m_o2 * per_day
            pca_kg_per_day[1] = mol_n2 * m_n2 * per_day
            rate[pca] = pca_kg_per_day[0] + pca_kg_per_day[1]
            code |= PCA_DREW
    for j in range(pending.size):
        if pending[j] != 0.0:
            code |= RELEASING
            break
    for v in range(candle_o2.size):
        if candle_o2[v] != 0.0:
            code |= CANDLES
            break
    return code


# (its code holds unmanaged's stack arrays)
STAMPED = stamp_with_callees(machines_frame, (kernel_args, unmanaged))
