"""Electrical power: solar arrays, batteries, the converters between the segments, load shedding.

The figures are data (``data/power.toml``, each cited or labelled an estimate); the model:

- **Arrays.** The USOS has 8 wings (6 with an iROSA) whose outputs pointed at the Sun add
  up to 215 kW. In sunlight (``env.sunlit``) they can give ``capacity x pointing``: with
  attitude held the alpha and beta gimbals keep them square to the Sun at any beta angle
  (pointing 1); with attitude lost (``state["att.lost"]``, written by
  :mod:`~issim.physics.attitude`) the pointing falls to 1/4 (an estimate). The ROS arrays
  (Zvezda, Nauka; Zarya's are retracted) turn on one axis only, so with attitude held
  they give their output in sunlight x ``cos(beta)``. In eclipse nothing is generated.
  An ``array_fail`` takes a USOS wing out (``array_repair`` brings it back).
- **Generation follows the load.** The arrays' capacity is a ceiling, not what they give:
  the SSUs shunt whatever the loads and the batteries do not take. So ``power.generated_w``
  is what the station draws (loads through the distribution losses, plus battery charging),
  and the sheet's "84-120 kW orbit average" is read as that, while 215 kW (240 kW for
  the legacy arrays new) is the capacity in direct sun (``power.available_w``).
- **Batteries.** One store per segment (USOS: 24 Li-ion ORUs behind 24 BCDUs of 6.6 kW,
  which limit charge and discharge; ROS: an estimate), with charge and discharge
  efficiencies. In sunlight the surplus charges them; in eclipse they carry the loads.
- **Converters** (ARCU, USOS -> ROS; ``converters_off`` / ``converters_on``) pass USOS
  power to the ROS whenever its own arrays do not cover its loads (and, in sunlight, its
  battery's charging), up to their capacity.
- **Loads** per segment: life support (``state["ls.segment_power_w"]``, written by
  :mod:`~issim.physics.lifesupport` in the previous frame) and communications
  (``state["comms.segment_power_w"]``, likewise; either may be absent), IMV fans (55 W
  each, on open hatches), and base loads in three tiers: essentials (avionics, thermal
  control), housekeeping (lighting, galley, exercise) and payloads.
- **Shedding.** Each frame each bus is balanced (:func:`balance`): essentials (life
  support, radios, fans, avionics and thermal control; on the USOS also the part of the
  transfer that carries the ROS's essentials) are served first, from the arrays and then
  the battery down to its empty level; the other loads are served, in priority order,
  from what the arrays have left and from the battery only down to its floor
  (``floor_soc``). What cannot be served is shed, lowest priority first: payloads, then
  housekeeping, then (USOS only) the rest of the transfer to the ROS. Once a bus has
  run short it stays in shedding (logged) until its battery is back in its normal band:
  meanwhile sunlight charges the battery before the shed loads get what is left. When
  even the essentials cannot be carried, the bus goes down (``power.bus`` False; life
  support, radios and the IMV fans stop) and that is logged; it is tried again when the
  arrays alone could carry its essentials or its battery has recharged to its floor,
  and comes back (logged) if they are carried.
- ``power_off`` / ``power_on`` (target a segment) are an operator cutting or restoring
  a bus; ``power_on`` also clears a bus that went down short of power (it goes down
  again at once if it still cannot be carried). A bus cut by hand at its hardware
  (``control.power_severed``, the ``cut_power`` command) refuses ``power_on`` until it is
  repaired (``repair_power``).

State (``power.``; 2 entries are per segment, in the order of :data:`SEGMENTS`):
``bus``, ``cut``, ``tripped``, ``bus_seen`` (2,) bool; ``available_w``, ``generated_w``,
``load_w`` (served, on the segment's user bus), ``shed_w``, ``battery_j``, ``soc``,
``soc_min``, ``soc_max``, ``machines_w`` (life-support and communications load last
seen with the bus up) (2,);
``transfer_w`` (1,) (delivered to the ROS); ``converters_on`` (1,) bool; ``wing_ok`` (8,)
bool. Running totals: ``power.<seg>_generated_j``, ``_load_j``, ``_shed_j``,
``_down_s``, ``power.transfer_j``, ``power.elapsed_s``; :meth:`Power.summary` turns them
into plain numbers.

Speed: the frame runs as one compiled kernel (:mod:`issim.physics.power_kernel`), about
7 µs a frame with the log and totals written in Python; :meth:`Power.update_reference` is
the same frame in plain Python (15-20 µs), kept to check the kernel against.

Left out: the 8 channels as separate buses (one pool per segment), DDCU and MBSU failures,
battery ageing and temperature, the SARJ's drag-reducing modes and structural shading,
ROS-to-USOS transfer (RACU), Soyuz/Progress own power, the arrays' beta-gimbal limits.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..inputs import bundled_toml
from ..sim.bound import Bound
from ..sim.schema import Key, Schema
from ..sim.state import add_nonzero_totals, add_totals
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits
from ..sim.world import SEGMENTS

USOS, ROS = SEGMENTS.index("USOS"), SEGMENTS.index("ROS")
J_PER_KWH = 3.6e6
_SEG_KEY = ("usos", "ros")


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Wing:
    """One USOS solar array wing: its channel id and its output pointed at the Sun (W)."""

    id: str
    irosa: bool
    capacity_w: float


@dataclass(frozen=True)
class BatteryConfig:
    """A segment's battery store (J) and its limits; SOC values are fractions of ``energy_j``."""

    energy_j: float
    limit_w: float
    charge_efficiency: float
    discharge_efficiency: float
    initial_soc: float
    band_low_soc: float
    band_high_soc: float
    floor_soc: float
    empty_soc: float


@dataclass(frozen=True)
class LoadConfig:
    """A segment's base loads besides life support and fans (W, on its user bus)."""

    essential_w: float
    housekeeping_w: float
    payload_w: float


@dataclass(frozen=True)
class PowerConfig:
    wings: tuple[Wing, ...]
    held_pointing: float
    lost_pointing: float
    distribution_efficiency: float
    ros_arrays_sun_w: dict  # array -> output in sunlight, pointed (W)
    batteries: tuple[BatteryConfig, BatteryConfig]
    loads: tuple[LoadConfig, LoadConfig]
    imv_fan_w: float
    converter_capacity_w: float
    converter_efficiency: float
    converters_initially_on: bool
    sources: dict = field(default_factory=dict)

    @property
    def usos_capacity_w(self) -> float:
        return sum(w.capacity_w for w in self.wings)

    @property
    def ros_sun_w(self) -> float:
        return sum(self.ros_arrays_sun_w.values())


def read_power_data(text: Optional[str] = None) -> dict:
    """The raw tables of ``data/power.toml`` (or of the given TOML text)."""
    if text is None:
        return bundled_toml("power.toml")  # parsed once a process, a fresh copy each call
    return tomllib.loads(text)


def figure(raw: dict, table: str, key: str) -> float:
    """A number from a table of power.toml; a missing one is an error naming it."""
    try:
        value = raw[table][key]
    except KeyError:
        raise ValueError(f"power.toml [{table}]: missing figure {key!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"power.toml [{table}] {key}: expected a number, got {value!r}")
    return float(value)


def load_power_config(text: Optional[str] = None) -> PowerConfig:
    """Read ``data/power.toml`` into a :class:`PowerConfig` (errors name the table and figure)."""
    raw = read_power_data(text)
    legacy = figure(raw, "usos_arrays", "legacy_wing_w")
    irosa = figure(raw, "usos_arrays", "irosa_wing_w")
    wings = tuple(Wing(w["id"], bool(w["irosa"]), irosa if w["irosa"] else legacy) for w in raw["usos_arrays"]["wing"])
    if len({w.id for w in wings}) != len(wings):
        raise ValueError("power.toml: two wings share an id")
    if len(wings) != int(figure(raw, "usos_arrays", "wing_count")):
        raise ValueError("power.toml [usos_arrays]: the wing list does not hold wing_count wings")

    def battery(table: str, energy_j: float) -> BatteryConfig:
        b = BatteryConfig(
            energy_j, *(figure(raw, table, k) for k in (
                "limit_w", "charge_efficiency", "discharge_efficiency", "initial_soc", "band_low_soc",
                "band_high_soc", "floor_soc", "empty_soc")),
        )
        if not 0 <= b.empty_soc < b.floor_soc < b.band_low_soc < b.band_high_soc <= 1:
            raise ValueError(f"power.toml [{table}]: needs 0 <= empty_soc < floor_soc < band_low_soc < band_high_soc <= 1")
        return b

    usos_j = figure(raw, "usos_battery", "oru_count") * figure(raw, "usos_battery", "oru_energy_kwh") * J_PER_KWH
    ros_j = figure(raw, "ros_battery", "energy_kwh") * J_PER_KWH
    sunlit = figure(raw, "ros_arrays", "sunlit_fraction")
    ros_arrays = {k[: -len("_average_w")]: float(v) / sunlit for k, v in raw["ros_arrays"].items() if k.endswith("_average_w")}
    loads = tuple(
        LoadConfig(*(figure(raw, t, k) for k in ("essential_w", "housekeeping_w", "payload_w")))
        for t in ("usos_loads", "ros_loads")
    )
    return PowerConfig(
        wings=wings,
        held_pointing=figure(raw, "usos_arrays", "held_pointing"),
        lost_pointing=figure(raw, "usos_arrays", "lost_pointing"),
        distribution_efficiency=figure(raw, "usos_distribution", "efficiency"),
        ros_arrays_sun_w=ros_arrays,
        batteries=(battery("usos_battery", usos_j), battery("ros_battery", ros_j)),
        loads=loads,  # type: ignore[arg-type]
        imv_fan_w=figure(raw, "fans", "imv_fan_w"),
        converter_capacity_w=figure(raw, "converters", "capacity_w"),
        converter_efficiency=figure(raw, "converters", "efficiency"),
        converters_initially_on=bool(raw["converters"]["initially_on"]),
        sources=dict(raw.get("sources", {})),
    )


# ---------------------------------------------------------------------------- one bus


def balance(supply_w, tiers, energy_j, b: BatteryConfig, dt_s, shedding=False):
    """Balance one bus over one frame.

    ``supply_w``: what the arrays (and converters) can give now; ``tiers``: the loads (W)
    in rising priority, the last the essentials. Essentials are served first, from the
    supply and then from the battery down to its empty level. Then:

    - normally (``shedding`` False) the other loads, highest priority first, from what
      the supply has left and then from the battery down to its floor; the surplus
      charges the battery;
    - while shedding, the battery's charging comes next, and the other loads get only
      what the supply has left after it (never the battery).

    Returns ``(used_w, energy_j, served, ok, short)``: what was drawn from the supply, the
    battery's energy after the frame, the power served to each tier but the last (same
    order), whether the essentials were carried (if not, nothing was served and the
    supply only charged the battery), and whether some load went unserved.
    """
    eta_d = b.discharge_efficiency
    ess = tiers[-1]
    n = len(tiers) - 1
    from_supply = ess if ess < supply_w else supply_w
    need = ess - from_supply
    left = supply_w - from_supply
    battery_w = 0.0
    if need > 0.0:
        to_empty = min(b.limit_w, max(energy_j - b.empty_soc * b.energy_j, 0.0) * eta_d / dt_s)
        if need > to_empty * (1.0 + 1e-12):  # the bus cannot be carried: only charge
            room = max(b.energy_j - energy_j, 0.0) / (b.charge_efficiency * dt_s)
            charge = min(supply_w, b.limit_w, room)
            return charge, energy_j + charge * b.charge_efficiency * dt_s, [0.0] * n, False, True
        battery_w = need
    served = [0.0] * n
    charge = 0.0
    room = max(b.energy_j - energy_j, 0.0) / (b.charge_efficiency * dt_s)
    if shedding:
        if battery_w == 0.0 and left > 0.0:
            charge = min(left, b.limit_w, room)
            left -= charge
        budget = 0.0
    else:
        budget = min(b.limit_w, max(energy_j - b.floor_soc * b.energy_j, 0.0) * eta_d / dt_s) - battery_w
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
        charge = min(left, b.limit_w, room)
        left -= charge
    used = supply_w - left
    energy_j = energy_j + (charge * b.charge_efficiency - battery_w / eta_d) * dt_s
    return used, energy_j, served, True, short


# ---------------------------------------------------------------------------- the subsystem


class Power(Subsystem):
    """Arrays, batteries, converters and load shedding on the USOS and ROS buses."""

    name = "power"
    events = ("power_off", "power_on", "converters_off", "converters_on", "array_fail", "array_repair")
    event_args: dict = {}

    def __init__(self, world=None, config: Optional[PowerConfig] = None):
        self.config = cfg = config or load_power_config()
        self.wing_index = {w.id: i for i, w in enumerate(cfg.wings)}
        self.wing_w = np.array([w.capacity_w for w in cfg.wings])
        self.usos_b, self.ros_b = cfg.batteries
        self.eta = cfg.distribution_efficiency
        self.eta_conv = cfg.converter_efficiency
        self.ros_sun_w = cfg.ros_sun_w
        self.fan_w = np.zeros((2, 0))
        self._kernel = None  # the compiled frame, bound at the first frame (numba is imported then)
        if world is not None:
            self._fans(world)
            # only the arrays of modules aboard in this station's era (no Nauka's before 2021)
            self.ros_sun_w = sum(w for m, w in cfg.ros_arrays_sun_w.items() if m in world.index)

    def _fans(self, world) -> None:
        """IMV fan power (W) per segment and link: drawn while the link's hatch is open."""
        fan = np.zeros((2, len(world.links)))
        for j, link in enumerate(world.links):
            if link.powered_by >= 0:
                fan[link.powered_by, j] = self.config.imv_fan_w
        self.fan_w = fan

    @staticmethod
    def fused_frame(subsystems):
        """The engine's offer: the physics at the head of ``subsystems`` updated in one compiled
        call while nothing needs Python (:class:`issim.physics.frame.PhysicsFrame`), or None."""
        from .frame import PhysicsFrame

        return PhysicsFrame.of(subsystems)

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        s = ("segments",)
        return Schema(
            owns=(
                Key("power.bus", s, "bool", "1", "each segment's bus powered"),
                Key("power.cut", s, "bool", "1", "each bus switched off by command"),
                Key("power.tripped", s, "bool", "1", "each bus tripped by its batteries running flat"),
                Key("power.shedding", s, "bool", "1", "each segment shedding non-essential loads"),
                Key("power.bus_seen", s, "bool", "1", "the buses life support saw last frame"),
                Key("power.available_w", s, "float64", "W", "power the arrays can give"),
                Key("power.generated_w", s, "float64", "W", "power the arrays give"),
                Key("power.load_w", s, "float64", "W", "load on each segment"),
                Key("power.shed_w", s, "float64", "W", "load shed"),
                Key("power.battery_j", s, "float64", "J", "energy in each segment's batteries"),
                Key("power.soc", s, "float64", "1", "batteries' state of charge"),
                Key("power.soc_min", s, "float64", "1", "lowest state of charge so far"),
                Key("power.soc_max", s, "float64", "1", "highest state of charge so far"),
                Key("power.machines_w", s, "float64", "W", "life support and comms load held for the frame"),
                Key("power.transfer_w", (1,), "float64", "W", "power sent USOS -> ROS through the converters"),
                Key("power.converters_on", (1,), "bool", "1", "the USOS-to-ROS converters on"),
                Key("power.wing_ok", ("wings",), "bool", "1", "each USOS solar wing working"),
            ),
            reads=("att.lost", "ls.segment_power_w", "comms.segment_power_w", "hatch.open", "control.power_severed"),
            dims={"segments": 2, "wings": len(self.config.wings)},
        )

    def reset(self, state, world, streams) -> None:
        self._fans(world)
        cfg = self.config
        b = cfg.batteries
        soc = np.array([b[0].initial_soc, b[1].initial_soc])
        state["power.bus"] = np.ones(2, dtype=bool)
        state["power.cut"] = np.zeros(2, dtype=bool)
        state["power.tripped"] = np.zeros(2, dtype=bool)
        state["power.shedding"] = np.zeros(2, dtype=bool)
        state["power.bus_seen"] = np.zeros(2, dtype=bool)  # what life support saw last frame
        state["power.available_w"] = np.zeros(2)
        state["power.generated_w"] = np.zeros(2)
        state["power.load_w"] = np.zeros(2)
        state["power.shed_w"] = np.zeros(2)
        state["power.battery_j"] = soc * np.array([b[0].energy_j, b[1].energy_j])
        state["power.soc"] = soc.copy()
        state["power.soc_min"] = soc.copy()
        state["power.soc_max"] = soc.copy()
        state["power.machines_w"] = np.zeros(2)
        state["power.transfer_w"] = np.zeros(1)
        state["power.converters_on"] = np.array([cfg.converters_initially_on])
        state["power.wing_ok"] = np.ones(len(cfg.wings), dtype=bool)

    def update_reference(self, state, env, dt_s: float) -> None:
        """The frame in Python, as the model reads: the compiled kernel
        (:mod:`issim.physics.power_kernel`, run by :meth:`update`) must agree with it."""
        a = state.arrays
        ub, rb = self.usos_b, self.ros_b
        eta, eta_conv = self.eta, self.eta_conv
        lu_cfg, lr_cfg = self.config.loads

        # Generation available.
        lost = a.get("att.lost")
        lost = lost is not None and bool(lost[0])
        if env.sunlit:
            if lost:
                fu = fr = self.config.lost_pointing
            else:
                fu = self.config.held_pointing
                fr = fu * abs(math.cos(math.radians(env.beta_deg)))
            avail_u = float(self.wing_w @ a["power.wing_ok"]) * fu
            avail_r = self.ros_sun_w * fr
        else:
            avail_u = avail_r = 0.0

        # Loads asked for: life support and communications (last frame's, valid if the bus
        # was up for them; otherwise the last seen), fans.
        held = a["power.machines_w"]
        seen_u, seen_r = a["power.bus_seen"].tolist()
        ls = a.get("ls.segment_power_w")
        comms = a.get("comms.segment_power_w")
        if ls is not None or comms is not None:
            lsu, lsr = ls.tolist() if ls is not None else (0.0, 0.0)
            if comms is not None:
                cu, cr = comms.tolist()
                lsu += cu
                lsr += cr
            if seen_u:
                held[USOS] = lsu
            if seen_r:
                held[ROS] = lsr
        ls_u, ls_r = held.tolist()
        open_ = a.get("hatch.open")
        fan_u, fan_r = (self.fan_w @ open_).tolist() if open_ is not None and open_.size else (0.0, 0.0)
        ess_u = lu_cfg.essential_w + ls_u + fan_u
        ess_r = lr_cfg.essential_w + ls_r + fan_r
        demand_u = ess_u + lu_cfg.housekeeping_w + lu_cfg.payload_w
        demand_r = ess_r + lr_cfg.housekeeping_w + lr_cfg.payload_w

        cut = a["power.cut"]
        tripped = a["power.tripped"]
        energy = a["power.battery_j"]
        e_u, e_r = energy.tolist()
        conv_on = bool(a["power.converters_on"][0])
        cut_u, cut_r = cut.tolist()
        trip_u, trip_r = tripped.tolist()

        # A bus that went down short of power is tried again once the arrays alone could
        # carry its essentials or its battery is back at its floor; it comes back if the
        # frame's balance carries them (otherwise it stays down, silently).
        try_u = trip_u and not cut_u and (avail_u * eta >= ess_u or e_u >= ub.floor_soc * ub.energy_j)
        up_u = not cut_u and (not trip_u or try_u)
        try_r = trip_r and not cut_r and (
            avail_r + (self.config.converter_capacity_w if conv_on and up_u else 0.0) >= ess_r
            or e_r >= rb.floor_soc * rb.energy_j)
        up_r = not cut_r and (not trip_r or try_r)

        # What the ROS asks of the converters: its shortfall, and in sunlight its charging.
        # The part that carries its essentials ranks on the USOS with the USOS's own.
        tiers_r = (lr_cfg.payload_w, lr_cfg.housekeeping_w, ess_r) if up_r else (0.0, 0.0, 0.0)
        request = request_ess = 0.0
        if conv_on and up_u:
            want = (rb.energy_j - e_r) / (rb.charge_efficiency * dt_s) if env.sunlit else 0.0
            want = min(max(want, 0.0), rb.limit_w)
            cap = self.config.converter_capacity_w
            request = min(cap, max(0.0, tiers_r[0] + tiers_r[1] + tiers_r[2] - avail_r + want))
            request_ess = min(request, max(0.0, tiers_r[2] - avail_r))

        # The USOS bus, at the primary (array) side: user loads through the distribution
        # losses, the transfer through the converters'.
        if up_u:
            own_ess = ess_u / eta
            tiers_u = (lu_cfg.payload_w / eta, lu_cfg.housekeeping_w / eta, (request - request_ess) / eta_conv,
                       own_ess + request_ess / eta_conv)
        else:
            own_ess = 0.0
            tiers_u = (0.0, 0.0, 0.0, 0.0)
        shedding = a["power.shedding"]
        shed_u_mode, shed_r_mode = shedding.tolist()
        used_u, e_u2, served_u, ok, short_u = balance(avail_u, tiers_u, e_u, ub, dt_s, shed_u_mode)
        if not ok:
            if not try_u:
                self._trip(state, USOS, ess_u, avail_u * eta)
            up_u = False
            own_ess, request_ess = 0.0, 0.0
            tiers_u = (0.0, 0.0, 0.0, 0.0)
        elif try_u:
            self._restore(state, USOS)
        delivered = served_u[2] * eta_conv + request_ess

        used_r, e_r2, served_r, ok, short_r = balance(avail_r + delivered, tiers_r, e_r, rb, dt_s, shed_r_mode)
        if not ok:
            if not try_r:
                self._trip(state, ROS, ess_r, avail_r + delivered)
            up_r = False
            tiers_r = (0.0, 0.0, 0.0)
        elif try_r:
            self._restore(state, ROS)
        gen_r = used_r if used_r < avail_r else avail_r
        delivered = used_r - gen_r  # what the ROS took of it (all of it, but for rounding)

        # Served and shed loads, on each segment's user bus.
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

        # Shedding starts when a bus runs short and lasts until its battery is back in band.
        if short_u or short_r or shed_u_mode or shed_r_mode:
            self._shedding(state, shedding, short_u, e_u2, short_r, e_r2)

        bus = a["power.bus"]
        bus[USOS], bus[ROS] = up_u, up_r
        a["power.bus_seen"][:] = bus
        av, gen, ld, sh = a["power.available_w"], a["power.generated_w"], a["power.load_w"], a["power.shed_w"]
        av[USOS], av[ROS] = avail_u, avail_r
        gen[USOS], gen[ROS] = used_u, gen_r
        ld[USOS], ld[ROS] = load_u, load_r
        sh[USOS], sh[ROS] = shed_u, shed_r
        energy[USOS], energy[ROS] = e_u2, e_r2
        soc_u, soc_r = e_u2 / ub.energy_j, e_r2 / rb.energy_j
        soc = a["power.soc"]
        soc[USOS], soc[ROS] = soc_u, soc_r
        lo, hi = a["power.soc_min"], a["power.soc_max"]
        if soc_u < lo[USOS]:
            lo[USOS] = soc_u
        if soc_r < lo[ROS]:
            lo[ROS] = soc_r
        if soc_u > hi[USOS]:
            hi[USOS] = soc_u
        if soc_r > hi[ROS]:
            hi[ROS] = soc_r
        a["power.transfer_w"][0] = delivered

        t = state.totals
        g = t.get
        t["power.usos_generated_j"] = g("power.usos_generated_j", 0.0) + used_u * dt_s
        t["power.ros_generated_j"] = g("power.ros_generated_j", 0.0) + gen_r * dt_s
        t["power.usos_load_j"] = g("power.usos_load_j", 0.0) + load_u * dt_s
        t["power.ros_load_j"] = g("power.ros_load_j", 0.0) + load_r * dt_s
        t["power.transfer_j"] = g("power.transfer_j", 0.0) + delivered * dt_s
        t["power.elapsed_s"] = g("power.elapsed_s", 0.0) + dt_s
        if shed_u:
            t["power.usos_shed_j"] = g("power.usos_shed_j", 0.0) + shed_u * dt_s
        if shed_r:
            t["power.ros_shed_j"] = g("power.ros_shed_j", 0.0) + shed_r * dt_s
        if not up_u:
            t["power.usos_down_s"] = g("power.usos_down_s", 0.0) + dt_s
        if not up_r:
            t["power.ros_down_s"] = g("power.ros_down_s", 0.0) + dt_s

    def _trip(self, state, s: int, essential_w: float, supply_w: float) -> None:
        state["power.tripped"][s] = True
        state.record("power", segment=SEGMENTS[s], what="bus_down",
                     reason=f"essential loads of {essential_w / 1000:.1f} kW exceed the {supply_w / 1000:.1f} kW "
                            f"supply and the battery is exhausted")

    def _shedding(self, state, shedding, short_u: bool, e_u: float, short_r: bool, e_r: float) -> None:
        for s, short, e, b in ((USOS, short_u, e_u, self.usos_b), (ROS, short_r, e_r, self.ros_b)):
            if short and not shedding[s]:
                shedding[s] = True
                state.record("power", segment=SEGMENTS[s], what="shedding",
                             reason="the loads exceed the supply and the battery is at its floor")
            elif shedding[s] and e >= b.band_low_soc * b.energy_j:
                shedding[s] = False
                state.record("power", segment=SEGMENTS[s], what="loads_restored",
                             reason="the battery is back in its normal band")

    def _restore(self, state, s: int) -> None:
        state["power.tripped"][s] = False
        state.record("power", segment=SEGMENTS[s], what="bus_restored")

    # ------------------------------------------------------------------ the compiled frame

    _SHED_LOG = {1: ("shedding", "the loads exceed the supply and the battery is at its floor"),
                 -1: ("loads_restored", "the battery is back in its normal band")}

    def _bind_kernel(self) -> None:
        from ..sim.kernels import kernel
        from . import kernel_args as k

        self._packed = k.pack_power(self.config, self.ros_sun_w)
        self._out, self._events = np.zeros(k.N_OUT), np.zeros(k.N_EVENTS, dtype=np.int64)
        n = len(k.OUT_TOTALS)  # out: the totals always added, then those added when not zero
        self._totals = (k.OUT_TOTALS, tuple((n + j, key) for j, key in enumerate(k.OUT_IF_NONZERO)))
        self._zeros = np.zeros(2)
        self._closed = np.zeros(0, dtype=bool)
        self._held = np.zeros(1, dtype=bool)  # attitude never lost, without an attitude subsystem
        self._kernel = Bound(kernel("power_frame"), self._kernel_arrays)  # the state's arrays kept while the same

    def _kernel_arrays(self, a) -> tuple:
        """The kernel's arguments but the frame's own, from ``state.arrays`` (see :class:`Bound`)."""
        lost, ls, comms, open_ = a.get("att.lost"), a.get("ls.segment_power_w"), a.get("comms.segment_power_w"), \
            a.get("hatch.open")
        return (a["power.wing_ok"], self._zeros if ls is None else ls, self._zeros if comms is None else comms,
                ls is not None, comms is not None, self._closed if open_ is None else open_, a["power.machines_w"],
                a["power.bus_seen"], a["power.cut"], a["power.tripped"], a["power.battery_j"],
                a["power.converters_on"], a["power.shedding"], a["power.bus"], a["power.available_w"],
                a["power.generated_w"], a["power.load_w"], a["power.shed_w"], a["power.soc"], a["power.soc_min"],
                a["power.soc_max"], a["power.transfer_w"], self.wing_w, self.fan_w, *self._packed, self._out,
                self._events, self._held if lost is None else lost)

    def update(self, state, env, dt_s: float) -> None:
        """The frame of :meth:`update_reference`, compiled (:mod:`issim.physics.power_kernel`);
        the log and the running totals are written here."""
        if self._kernel is None:
            self._bind_kernel()
        self._settle(state, self._kernel(state.arrays, bool(env.sunlit), float(env.beta_deg), float(dt_s)))

    def _settle(self, state, logged) -> None:
        """After the compiled frame (here or in :mod:`issim.physics.frame`): the log, when the
        kernel says it has something to log (``logged``), and the running totals."""
        out, events = self._out, self._events
        if logged:
            ev = events.tolist()
            for s in (USOS, ROS):
                if ev[2 * s]:
                    self._trip(state, s, float(out[10 + 2 * s]), float(out[11 + 2 * s]))
                elif ev[2 * s + 1]:
                    self._restore(state, s)
            for s in (USOS, ROS):
                if ev[4 + s]:
                    what, reason = self._SHED_LOG[ev[4 + s]]
                    state.record("power", segment=SEGMENTS[s], what=what, reason=reason)
        values = out.tolist()
        always, if_nonzero = self._totals
        add_totals(state.totals, always, values)
        add_nonzero_totals(state.totals, if_nonzero, values)

    # ------------------------------------------------------------------ events

    def validate(self, event) -> Optional[str]:
        kind = event.kind
        if kind in ("power_off", "power_on"):
            if event.target not in SEGMENTS:
                return f"no segment {event.target!r}; segments are {', '.join(SEGMENTS)}"
        elif kind in ("converters_off", "converters_on"):
            if event.target not in ("", "ROS"):
                return f"{kind} acts on the USOS-to-ROS converters: target 'ROS' or none, not {event.target!r}"
        elif kind in ("array_fail", "array_repair"):
            if event.target not in self.wing_index:
                return f"no solar array wing {event.target!r}; wings are {', '.join(self.wing_index)}"
        else:
            return f"{self.name} does not handle {kind!r}"
        return None

    def handle(self, state, event) -> Optional[str]:
        problem = self.validate(event)
        if problem:
            return problem
        kind = event.kind
        if kind in ("power_off", "power_on"):
            s = SEGMENTS.index(event.target)
            severed = state["control.power_severed"] if "control.power_severed" in state else None
            if kind == "power_on" and severed is not None and severed[s]:  # cut by hand (cut_power)
                return f"the {event.target} bus is cut at its hardware; repair_power first"
            state["power.cut"][s] = kind == "power_off"
            if kind == "power_on":
                state["power.tripped"][s] = False
            state["power.bus"][s] = kind == "power_on"
        elif kind in ("converters_off", "converters_on"):
            state["power.converters_on"][0] = kind == "converters_on"
        else:
            i = self.wing_index[event.target]
            ok = state["power.wing_ok"]
            if kind == "array_fail" and not ok[i]:
                return f"wing {event.target} has already failed"
            if kind == "array_repair" and ok[i]:
                return f"wing {event.target} is working"
            ok[i] = kind == "array_repair"
        return None

    # ------------------------------------------------------------------ reading

    def summary(self, state) -> dict:
        """The run's power figures as plain numbers (kWh, kW, fractions, hours)."""
        t = state.totals
        elapsed = t.get("power.elapsed_s", 0.0)
        out = {}
        for s, key in enumerate(_SEG_KEY):
            gen = t.get(f"power.{key}_generated_j", 0.0)
            out[f"{key}_generated_kwh"] = round(gen / J_PER_KWH, 4)
            out[f"{key}_mean_generated_kw"] = round(gen / elapsed / 1000.0, 4) if elapsed else 0.0
            out[f"{key}_load_kwh"] = round(t.get(f"power.{key}_load_j", 0.0) / J_PER_KWH, 4)
            out[f"{key}_shed_kwh"] = round(t.get(f"power.{key}_shed_j", 0.0) / J_PER_KWH, 4)
            out[f"{key}_bus_down_h"] = round(t.get(f"power.{key}_down_s", 0.0) / 3600.0, 4)
            out[f"{key}_soc_min"] = round(float(state["power.soc_min"][s]), 4)
            out[f"{key}_soc_max"] = round(float(state["power.soc_max"][s]), 4)
            out[f"{key}_soc_end"] = round(float(state["power.soc"][s]), 4)
        out["transfer_to_ros_kwh"] = round(t.get("power.transfer_j", 0.0) / J_PER_KWH, 4)
        return out

    def channels(self) -> list[Channel]:
        src = "power.toml"
        out = []
        for s, seg in enumerate(SEGMENTS):
            b = self.config.batteries[s]
            soc_limits = Limits(warn_low=b.band_low_soc, danger_low=b.floor_soc)
            out += [
                Channel(f"power.{seg}.bus", f"{seg} power bus up", "1", "power.bus", (s,)),
                Channel(f"power.{seg}.available_w", f"{seg} array output available", "W", "power.available_w", (s,),
                        source=f"{src} arrays"),
                Channel(f"power.{seg}.generated_w", f"{seg} power generated (drawn from the arrays)", "W",
                        "power.generated_w", (s,), source=f"{src} arrays"),
                Channel(f"power.{seg}.load_w", f"{seg} loads served", "W", "power.load_w", (s,),
                        source=f"{src} loads; eclss.toml"),
                Channel(f"power.{seg}.shed_w", f"{seg} loads shed", "W", "power.shed_w", (s,), Limits(warn_high=0.5)),
                Channel(f"power.{seg}.soc", f"{seg} battery state of charge", "1", "power.soc", (s,), soc_limits,
                        f"{src} band_low_soc (35 % max depth of discharge), floor_soc (estimate)"),
                Channel(f"power.{seg}.battery_j", f"{seg} battery energy", "J", "power.battery_j", (s,),
                        Limits(warn_low=b.band_low_soc * b.energy_j, danger_low=b.floor_soc * b.energy_j),
                        f"{src} battery (estimate)"),
            ]
        out += [
            Channel("power.converters.transfer_w", "power passed from the USOS to the ROS", "W", "power.transfer_w", (0,),
                    source=f"{src} converters (estimate)"),
            Channel("power.converters.on", "USOS-to-ROS converters on", "1", "power.converters_on", (0,)),
        ]
        for i, w in enumerate(self.config.wings):
            out.append(Channel(f"power.wing.{w.id}.ok", f"solar array wing {w.id} working", "1", "power.wing_ok", (i,)))
        return out


class PowerBuses(Subsystem):
    """Power as a boundary only: each segment's bus is up or down, by ``power_off`` / ``power_on``.

    Kept for small test harnesses that need ``state["power.bus"]`` and nothing else;
    scenarios run :class:`Power`.
    """

    name = "power"
    events = ("power_off", "power_on")
    event_args: dict = {}

    def schema(self) -> Schema:
        return Schema(owns=(Key("power.bus", ("segments",), "bool", "1", "each segment's bus powered"),),
                      dims={"segments": len(SEGMENTS)})

    def reset(self, state, world, streams) -> None:
        state["power.bus"] = np.ones(len(SEGMENTS), dtype=bool)

    def update(self, state, env, dt_s: float) -> None:
        pass

    def validate(self, event):
        if event.target not in SEGMENTS:
            return f"no segment {event.target!r}; segments are {', '.join(SEGMENTS)}"
        return None

    def handle(self, state, event):
        problem = self.validate(event)
        if problem:
            return problem
        state["power.bus"][SEGMENTS.index(event.target)] = event.kind == "power_on"
        return None

    def channels(self) -> list[Channel]:
        return [Channel(f"power.{s}.bus", f"{s} power bus up", "1", "power.bus", (i,)) for i, s in enumerate(SEGMENTS)]
