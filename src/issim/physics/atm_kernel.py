"""The atmosphere's frame as one compiled kernel (numba), and the hatch graph's tree solve.

:class:`~issim.physics.atmosphere.Atmosphere` describes the model; this module is how a
frame of it is computed: leaks, mixing and bulk flow through hatches, sub-steps, and the
partial pressures after, in one call with no Python in between. The numbers are those of
the reference implementation (``Atmosphere.update_reference``) to rounding; the golden
telemetry (``tests/test_golden.py``) holds them to it.

**The tree solve.** The pressures after a sub-step solve ``(D⁻¹ + h B G Bᵀ) p' = N``, where
``D`` is each volume's pascals per mole, ``G`` each hatch's conductance and ``B`` the
incidence of the hatch graph. That matrix is a weighted graph Laplacian plus a positive
diagonal. The station's hatch graph is a tree (every module and vehicle hangs on one
path of hatches), so the system is solved leaves inward and back out again in O(n), with
no pivoting (the matrix is symmetric positive definite): no dense 25 x 25 solve. A
closed hatch is an edge of conductance zero, so the same order serves any hatches.

Compiled with ``cache=True`` (the machine code is kept beside this file) and without
``fastmath``, so the IEEE results are those of the arithmetic as written; with
numba's ``error_model="numpy"``: a division by zero gives IEEE's inf or nan, as numpy
does, and no check for it is made at each division (every divisor here is guarded or
positive).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..sim.kernel_stamp import stamp_with_callees
from . import gas, kernel_args, unmanaged
from .gas import GAMMA_AIR, MOLAR_MASS_KG_PER_MOL, R_J_PER_MOL_K
from .kernel_args import MEMO_HEAD, tree_order  # noqa: F401 (tree_order: the tree solve's order, read here too)
from .unmanaged import stack_empty, stack_zeros


@njit(cache=True, error_model="numpy")
def tree_solve(order, parent, parent_link, inv_d, w, rhs):
    """Solve ``(diag(inv_d) + Σ_links w (e_a - e_b)(e_a - e_b)ᵀ) x = rhs`` on a forest."""
    n = order.size
    diag, fold = np.empty(n), np.empty(n)
    tree_fold(order, parent, parent_link, inv_d, w, diag, fold)
    x = np.empty(n)
    tree_solve_folded(order, parent, parent_link, diag, fold, w, rhs, np.empty(n), x)
    return x


@njit(cache=True, error_model="numpy")
def tree_fold(order, parent, parent_link, inv_d, w, diag, fold):
    """The part of :func:`tree_solve` that does not depend on the right-hand side: each
    volume's diagonal once its children are folded into it (``diag``), and the factor it
    is folded into its parent with (``fold``)."""
    n = order.size
    for k in range(n):
        diag[k] = inv_d[k]
    for k in range(n):
        i = order[k]
        e = parent_link[i]
        if e >= 0:
            diag[i] += w[e]
            diag[parent[i]] += w[e]
    for k in range(n - 1, -1, -1):  # leaves first: fold each volume into its parent
        i = order[k]
        p = parent[i]
        fold[i] = 0.0
        if p >= 0:
            we = w[parent_link[i]]
            f = we / diag[i]
            diag[p] -= we * f
            fold[i] = f


@njit(cache=True, error_model="numpy")
def tree_solve_folded(order, parent, parent_link, diag, fold, w, rhs, b, x):
    """:func:`tree_solve` from :func:`tree_fold`'s ``diag`` and ``fold``, the same numbers,
    into ``x`` (``b``: working space, as long as ``rhs``)."""
    n = order.size
    for k in range(n):
        b[k] = rhs[k]
    for k in range(n - 1, -1, -1):  # leaves first
        i = order[k]
        p = parent[i]
        if p >= 0:
            b[p] += fold[i] * b[i]
    for k in range(n):  # roots first: back out to the leaves
        i = order[k]
        p = parent[i]
        if p < 0:
            x[i] = b[i] / diag[i]
        else:
            x[i] = (b[i] + w[parent_link[i]] * x[p]) / diag[i]


@njit(cache=True, inline="always")
def _memo_layout(nv, nl):
    """Where each part of :func:`atmosphere_frame`'s memo starts (after its :data:`MEMO_HEAD`):
    temperatures, open and fan flags, mixing, conductance, sub-step x conductance, 1/D,
    folded diagonal, fold factor."""
    at_t = MEMO_HEAD
    at_open = at_t + nv
    at_fan = at_open + nl
    at_mix = at_fan + nl
    at_g = at_mix + nl
    at_w = at_g + nl
    at_inv_d = at_w + nl
    at_diag = at_inv_d + nv
    return at_t, at_open, at_fan, at_mix, at_g, at_w, at_inv_d, at_diag, at_diag + nv


@njit(cache=True, error_model="numpy")
def _links(n, temp, open_, valve_open, bus, pressure_before, volume, a, b, fan_bus, has_fan, imv, passive, inv_v_sum,
           order, parent, parent_link, equalise_s, valve_cd_area, h, memo, nv, nl):
    """What :func:`atmosphere_frame` works out from the hatches, fans and temperatures, into
    its ``memo``: each link's mixing (capped so that a volume with several open links cannot
    overshoot) and bulk conductance (an open hatch's from its equalisation time; an open
    valve's orifice flow linearised at the pressure difference before the frame), and the
    tree solve's folded diagonal."""
    molar = MOLAR_MASS_KG_PER_MOL
    at_t, at_open, at_fan, at_mix, at_g, at_w, at_inv_d, at_diag, at_fold = _memo_layout(nv, nl)
    memo[1] = h
    for i in range(nv):
        memo[at_t + i] = temp[i]
    degree = stack_zeros(nv, np.int64)
    for l in range(nl):
        if open_[l]:
            degree[a[l]] += 1
            degree[b[l]] += 1
    for l in range(nl):
        fan_on = has_fan[l] != 0 and bus[fan_bus[l]]
        memo[at_open + l] = 1.0 if open_[l] else 0.0
        memo[at_fan + l] = 1.0 if fan_on else 0.0
        q = 0.0
        if open_[l]:
            q = imv[l] if fan_on else passive[l]
        worst = max(max(degree[a[l]], degree[b[l]]), 1)
        memo[at_mix + l] = min(-np.expm1(-q * inv_v_sum[l] * h) / inv_v_sum[l], 1.0 / worst / inv_v_sum[l])
    d = stack_empty(nv, np.float64)
    for i in range(nv):
        d[i] = R_J_PER_MOL_K * temp[i] / volume[i]
    coupled = False
    for l in range(nl):
        g = 0.0
        if open_[l]:
            g = 1.0 / (equalise_s * (d[a[l]] + d[b[l]]))
        elif valve_open[l]:
            up = a[l] if pressure_before[a[l]] >= pressure_before[b[l]] else b[l]
            mass = n[up, 0] * molar[0] + n[up, 1] * molar[1] + n[up, 2] * molar[2] + n[up, 3] * molar[3]
            moles = n[up, 0] + n[up, 1] + n[up, 2] + n[up, 3]
            rho = mass / volume[up]
            mm = mass / moles if moles > 1e-9 else 0.029
            dp = max(abs(pressure_before[a[l]] - pressure_before[b[l]]), 1.0)
            g = valve_cd_area * np.sqrt(2.0 * rho / dp) / mm
        memo[at_g + l] = g
        memo[at_w + l] = h * g
        coupled = coupled or g != 0.0
    memo[2] = 1.0 if coupled else 0.0
    inv_d = memo[at_inv_d:at_inv_d + nv]
    for i in range(nv):
        inv_d[i] = 1.0 / d[i]
    tree_fold(order, parent, parent_link, inv_d, memo[at_w:at_w + nl], memo[at_diag:at_diag + nv],
              memo[at_fold:at_fold + nv])


@njit(cache=True, error_model="numpy")
def atmosphere_frame(n, temp, leak_area, open_, valve_open, bus, pressure_before, volume,
                     link_ints, link_floats, tree, scalars, memo, leak_kg_per_day, pp, pressure, dt_s):
    """One frame of the cabin air, in place: ``n`` (volumes x 4 moles), and the derived
    ``leak_kg_per_day``, ``pp`` and ``pressure``. Returns the moles leaked per species.

    ``memo`` keeps what the frame works out from the hatches, fans, temperatures and the
    sub-step alone (each link's mixing and bulk conductance, the tree solve's folded
    diagonal): while no valve is open (its flow depends on the pressures) and those are
    the same, the next frame reads them instead of working them out again, the same
    numbers. Its layout: valid, sub-step, temperatures (volumes), open and fan flags,
    mixing, conductance, sub-step x conductance (links), 1/D, folded diagonal, fold
    factor (volumes), coupled."""
    a, b, fan_bus, has_fan = link_ints[0], link_ints[1], link_ints[2], link_ints[3]
    imv, passive, inv_v_sum = link_floats[0], link_floats[1], link_floats[2]
    order, parent, parent_link = tree[0], tree[1], tree[2]
    choke, equalise_s, valve_cd_area, max_substeps = scalars[0], scalars[1], scalars[2], scalars[3]
    nv = n.shape[0]
    nl = a.size
    molar = MOLAR_MASS_KG_PER_MOL
    # leaks: each volume's e-folding rate through its effective hole area
    leak_k = stack_zeros(nv, np.float64)
    any_leak = False
    k_max = 0.0
    for i in range(nv):
        if leak_area[i] != 0.0:
            m = n[i, 0] + n[i, 1] + n[i, 2] + n[i, 3]
            mass = n[i, 0] * molar[0] + n[i, 1] * molar[1] + n[i, 2] * molar[2] + n[i, 3] * molar[3]
            mix_m = mass / m if m > 1e-9 else 0.029
            leak_k[i] = leak_area[i] * choke * np.sqrt(GAMMA_AIR * R_J_PER_MOL_K * temp[i] / mix_m) / volume[i]
            any_leak = any_leak or leak_k[i] != 0.0
            k_max = max(k_max, leak_k[i])
    any_valve = False
    any_link = False
    for l in range(nl):
        valve = valve_open[l] and not open_[l]
        any_valve = any_valve or valve
        any_link = any_link or open_[l] or valve
    substeps = 1
    if k_max * dt_s > 0.1 and any_link:
        substeps = int(min(max_substeps, np.ceil(k_max * dt_s / 0.1)))
    h = dt_s / substeps

    at_t, at_open, at_fan, at_mix, at_g, at_w, at_inv_d, at_diag, at_fold = _memo_layout(nv, nl)
    same = not any_valve and memo[0] == 1.0 and memo[1] == h
    if same:
        for i in range(nv):
            if memo[at_t + i] != temp[i]:
                same = False
                break
    if same:
        for l in range(nl):
            fan_on = has_fan[l] != 0 and bus[fan_bus[l]]
            if memo[at_open + l] != (1.0 if open_[l] else 0.0) or memo[at_fan + l] != (1.0 if fan_on else 0.0):
                same = False
                break
    if not same:
        _links(n, temp, open_, valve_open, bus, pressure_before, volume, a, b, fan_bus, has_fan, imv, passive,
               inv_v_sum, order, parent, parent_link, equalise_s, valve_cd_area, h, memo, nv, nl)
        memo[0] = 0.0 if any_valve else 1.0  # (a valve's flow is worked out again each frame)
    mix_g = memo[at_mix:at_mix + nl]
    g = memo[at_g:at_g + nl]
    w = memo[at_w:at_w + nl]
    diag = memo[at_diag:at_diag + nv]
    fold = memo[at_fold:at_fold + nv]
    coupled = memo[2] != 0.0

    had_loss = False
    for i in range(nv):
        had_loss = had_loss or leak_kg_per_day[i] != 0.0
    if any_leak or had_loss:
        for i in range(nv):
            mass = n[i, 0] * molar[0] + n[i, 1] * molar[1] + n[i, 2] * molar[2] + n[i, 3] * molar[3]
            leak_kg_per_day[i] = leak_k[i] * mass * 86_400.0

    leaked = np.zeros(4)
    x = stack_empty((nl, 4), np.float64)
    total = stack_empty(nv, np.float64)
    solve_b = stack_empty(nv, np.float64)
    p_next = stack_empty(nv, np.float64)
    for _ in range(substeps):
        if any_leak:
            for i in range(nv):
                keep = np.exp(-leak_k[i] * h)
                for s in range(4):
                    leaked[s] += (1.0 - keep) * n[i, s]
                    n[i, s] *= keep
        for l in range(nl):
            for s in range(4):
                x[l, s] = mix_g[l] * (n[a[l], s] / volume[a[l]] - n[b[l], s] / volume[b[l]])
        if coupled:
            for i in range(nv):
                total[i] = n[i, 0] + n[i, 1] + n[i, 2] + n[i, 3]
            tree_solve_folded(order, parent, parent_link, diag, fold, w, total, solve_b, p_next)
            for l in range(nl):
                bulk = h * g[l] * (p_next[a[l]] - p_next[b[l]])  # mol, a -> b
                up = a[l] if bulk >= 0 else b[l]
                for s in range(4):
                    x[l, s] += bulk * (n[up, s] / max(total[up], 1e-300))
        for l in range(nl):
            for s in range(4):
                n[a[l], s] -= x[l, s]
                n[b[l], s] += x[l, s]
    for i in range(nv):
        rt_over_v = R_J_PER_MOL_K * temp[i] / volume[i]
        p = 0.0
        for s in range(4):
            if n[i, s] < 0.0:
                n[i, s] = 0.0
            pp[i, s] = n[i, s] * rt_over_v
            p += pp[i, s]
        pressure[i] = p
    return leaked


# (their code holds unmanaged's stack arrays and gas's constants)
STAMPED = all([stamp_with_callees(_links, (gas, kernel_args, unmanaged)),
              stamp_with_callees(atmosphere_frame, (gas, kernel_args, unmanaged))])
