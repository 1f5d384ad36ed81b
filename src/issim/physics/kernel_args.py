"""What the compiled kernels take, laid out without numba: their constants and packers.

The physics kernels (``*_kernel.py`` beside this module) take a subsystem's parameters
packed into a few contiguous arrays, built once per run, and say what happened in codes and
fixed slots. The packers and the codes live here, in plain numpy, so that a run whose
kernels were built ahead of time (:mod:`issim.sim.kernels`) never imports numba; the
kernels import the same names, and compile them in as constants.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- the atmosphere (atm_kernel)

def tree_order(n_volumes: int, a: np.ndarray, b: np.ndarray):
    """``(order, parent, parent_link)`` of the hatch graph as a forest, each root first then
    breadth-first; ``None`` when the graph has a cycle (then the tree solve does not apply)."""
    if len(a) > n_volumes - 1:
        return None
    neighbours: list[list[tuple[int, int]]] = [[] for _ in range(n_volumes)]
    for link, (i, j) in enumerate(zip(a.tolist(), b.tolist())):
        neighbours[i].append((j, link))
        neighbours[j].append((i, link))
    parent = np.full(n_volumes, -1, dtype=np.int64)
    parent_link = np.full(n_volumes, -1, dtype=np.int64)
    seen = np.zeros(n_volumes, dtype=bool)
    order: list[int] = []
    for root in range(n_volumes):
        if seen[root]:
            continue
        seen[root] = True
        queue = [root]
        while queue:
            here = queue.pop(0)
            order.append(here)
            for there, link in neighbours[here]:
                if link == parent_link[here]:
                    continue
                if seen[there]:
                    return None  # a cycle
                seen[there] = True
                parent[there], parent_link[there] = here, link
                queue.append(there)
    return np.array(order, dtype=np.int64), parent, parent_link


MEMO_HEAD = 3  # valid, sub-step, coupled (atmosphere_frame's memo)


def pack_atmosphere(a, b, fan_bus, has_fan, imv, passive, inv_v_sum, order, parent, parent_link,
         choke, equalise_s, valve_cd_area, max_substeps) -> tuple:
    """The hatch graph's parameters as the kernel takes them, built once: ``(link_ints,
    link_floats, tree, scalars, memo)``, so that a call passes 17 arguments instead of 27;
    ``memo`` is the kernel's own (see :func:`~issim.physics.atm_kernel.atmosphere_frame`)."""
    link_ints = np.ascontiguousarray([np.asarray(x, dtype=np.int64) for x in (a, b, fan_bus, has_fan)])
    link_floats = np.ascontiguousarray([np.asarray(x, dtype=np.float64) for x in (imv, passive, inv_v_sum)])
    tree = np.ascontiguousarray([order, parent, parent_link], dtype=np.int64)
    scalars = np.array([choke, equalise_s, valve_cd_area, max_substeps], dtype=np.float64)
    memo = np.zeros(MEMO_HEAD + len(order) * 4 + len(imv) * 5)  # (see atmosphere_frame)
    return link_ints, link_floats, tree, scalars, memo


# ---------------------------------------------------------------- the links (comms_kernel)

def pack_links(link_seg, relay_targets, site_cols, site_mask_deg, power_full_w) -> tuple:
    """The links' tables as the kernel takes them, built once: ``(link_seg, relay_targets,
    site_cols, site_mask_deg, power_full_w)`` as contiguous int64 / bool / float64 arrays."""
    return (np.ascontiguousarray(link_seg, dtype=np.int64), np.ascontiguousarray(relay_targets, dtype=np.bool_),
            np.ascontiguousarray(site_cols, dtype=np.int64), np.ascontiguousarray(site_mask_deg, dtype=np.float64),
            np.ascontiguousarray(power_full_w, dtype=np.float64))


# ---------------------------------------------------------------- the crew's bodies (crew_kernel)

def pack_crew(resting_rate, molar_mass, drink_kg_per_day, urine_kg_per_day, pp_o2_floor_pa, co2_onset_pa,
         armstrong_pa, co2_symptom_pa, unconscious, dead, eva, o2, co2, h2o) -> tuple:
    """The model's constants as the kernel takes them: ``(floats, ints)``, built once, so that
    a call passes 29 arguments instead of 40."""
    floats = np.concatenate([np.asarray(resting_rate, dtype=np.float64), np.asarray(molar_mass, dtype=np.float64),
                             [drink_kg_per_day, urine_kg_per_day, pp_o2_floor_pa, co2_onset_pa, armstrong_pa],
                             np.asarray(co2_symptom_pa, dtype=np.float64)])
    ints = np.array([unconscious, dead, eva, o2, co2, h2o], dtype=np.int64)
    return floats, ints


# ---------------------------------------------------------------- life support's machines (ls_kernel)

# The per-machine parameters, packed once (:func:`pack_machines`) into two row-major tables and a
# few scalars, so that a call passes 25 arguments instead of 53.
FLOAT_ROWS = ("r_over_v", "p_max", "p_recovery", "o2_target", "o2_stop", "g_min", "g_span", "g_step",
              "g_inv_step", "floor_pa", "k_per_s", "neg_cap", "condensate_per_mol", "molar_mass", "standby_w",
              "span_w", "inv_full_rate")
INT_ROWS = ("seg", "mod", "flat", "p_in", "p_out", "r_group", "g_stepped", "is_gen")
SCALARS = ("empty_kg", "water_kg_per_kg_o2", "o2_mol_per_kg_water", "inv_band", "r_n_groups", "r_shared",
           # the pressure control: its machine (-1: none), module, tanks, thresholds, flow, molar masses
           "pca", "pca_vol", "pca_r_over_v", "pca_o2_start", "pca_o2_stop", "pca_n2_start", "pca_n2_stop",
           "pca_tank_o2", "pca_tank_n2", "pca_flow_kg_per_s", "m_o2", "m_n2", "s_per_day")
# What the kernel returns: a code, bit 0 set when a store ran dry or got water again (then
# ``out`` holds the flags before), bit 1 when the pressure control drew on its tanks, bit 2
# when gas waits to be released from a tank, bit 3 when candles burn (Python's to do).
DRY_CHANGED, PCA_DREW, RELEASING, CANDLES = 1, 2, 4, 8


def out_size(n_machines: int) -> int:
    """The length of the ``out`` buffer: gas mol and water kg per machine, the pressure
    control's O2 and N2 mol, the dry flags before the frame."""
    return 3 * n_machines + 2


def pack_machines(**params) -> tuple:
    """``(floats, ints, scalars)``: the parameters named in :data:`FLOAT_ROWS`, :data:`INT_ROWS`
    and :data:`SCALARS` as the kernel takes them (copies: later changes are not seen)."""
    floats = np.ascontiguousarray([np.asarray(params[k], dtype=np.float64) for k in FLOAT_ROWS])
    ints = np.ascontiguousarray([np.asarray(params[k], dtype=np.int64) for k in INT_ROWS])
    scalars = np.array([float(params[k]) for k in SCALARS])
    return floats, ints, scalars


# ---------------------------------------------------------------- power (power_kernel)

# The model's parameters, packed once (:func:`pack_power`): numba checks every argument's type at
# each call (about 0.05 µs apiece), so the figures travel as two small arrays.
PARAMS = ("held_pointing", "lost_pointing", "ros_sun_w", "eta", "eta_conv", "converter_capacity_w",
          "usos_essential_w", "usos_housekeeping_w", "usos_payload_w",
          "ros_essential_w", "ros_housekeeping_w", "ros_payload_w")
BATTERY = ("energy_j", "limit_w", "charge_efficiency", "discharge_efficiency", "band_low_soc", "floor_soc",
           "empty_soc")

# What the kernel reports in ``out`` (floats) and ``events`` (ints).
OUT_TOTALS = ("power.usos_generated_j", "power.ros_generated_j", "power.usos_load_j", "power.ros_load_j",
              "power.transfer_j", "power.elapsed_s")
OUT_IF_NONZERO = ("power.usos_shed_j", "power.ros_shed_j", "power.usos_down_s", "power.ros_down_s")
# out[10:14]: the USOS essentials and supply at a trip, the same for the ROS.
# events: USOS tripped, USOS restored, ROS tripped, ROS restored (1 or 0); USOS, ROS
# shedding started (1) or ended (-1).
N_OUT, N_EVENTS = 14, 6


def pack_power(cfg, ros_sun_w: float) -> tuple:
    """``(params, batteries)`` from a :class:`~issim.physics.power.PowerConfig`."""
    lu, lr = cfg.loads
    params = np.array([cfg.held_pointing, cfg.lost_pointing, ros_sun_w, cfg.distribution_efficiency,
                       cfg.converter_efficiency, cfg.converter_capacity_w, lu.essential_w, lu.housekeeping_w,
                       lu.payload_w, lr.essential_w, lr.housekeeping_w, lr.payload_w], dtype=np.float64)
    batteries = np.array([[getattr(b, k) for k in BATTERY] for b in cfg.batteries], dtype=np.float64)
    return params, batteries


# ---------------------------------------------------------------- the whole frame (frame_kernel)

POWER, ATTITUDE, CREW, LIFESUPPORT, PROPULSION, COMMS, ATMOSPHERE, DONE = range(8)
AFTER = (POWER, CREW, LIFESUPPORT, COMMS, ATMOSPHERE)  # stopped after the kernel: its Python part follows
BEFORE = (ATTITUDE, PROPULSION)  # stopped before anything was written: its update runs in Python
MS_PER_MINUTE, MS_PER_DAY = 60_000, 86_400_000
# Where each subsystem's running totals sit in the call's slots (``totals[0]``), in the order
# their ``_settle`` adds them: power's (the first POWER_ALWAYS always, then those added when not
# zero: power_kernel.OUT_TOTALS and OUT_IF_NONZERO), the crew's (crew._TOTAL_KEYS) and
# crew.days, the comms' two contact times, then life support's.
# issim.physics.frame.PhysicsFrame lays its keys out from the same numbers, and checks them.
POWER_ALWAYS, POWER_TOTALS, CREW_TOTALS = 6, 10, 8
CREW_AT = POWER_TOTALS
DAYS_AT = CREW_AT + CREW_TOTALS
CONTACT_AT = DAYS_AT + 1
LS_AT = CONTACT_AT + 2


def pack_attitude(min_cmgs: int, h_cmg: float, amp: float, omega: float, torque: float, threshold: float):
    """Attitude's constants as :func:`~issim.physics.frame_kernel.attitude_quiet` takes them:
    ``(min_cmgs, floats)``."""
    return int(min_cmgs), np.array([h_cmg, amp, omega, torque, threshold], dtype=np.float64)
