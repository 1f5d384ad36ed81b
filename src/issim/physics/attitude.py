"""Attitude control: the CMGs' stored momentum, desaturations, and losing attitude.

The figures are data (the ``[attitude]`` table of ``data/power.toml``); the model:

- Four CMGs on Z1 store up to 4,880 N·m·s each; at least two are needed for control.
  The capacity is ``working x 4,880`` N·m·s.
- The stored momentum is tracked as a magnitude along one axis: a **secular** part that
  grows at a constant net disturbance torque (the residual of gravity gradient and
  aerodynamic drag about the torque-equilibrium attitude, an estimate) and a **cyclic**
  part at orbital rate, ``A sin(2π t / P)`` with ``t`` the UTC time (s), that averages
  out: ``H = H_secular + A sin(2π t / P)``, its magnitude compared with the capacity.
- When ``|H|`` reaches the desaturation threshold (80 % of capacity), Russian-segment
  thrusters unload the secular part at once (``H_secular = 0``), if the Russian side
  allows it (``stop_desat`` / ``allow_desat``), the ROS bus is up
  (``state["power.bus"]``), the thrusters are enabled (``state["prop.thrusters_enabled"]``,
  a missing key counts as enabled) and there is propellant: the cost is
  ``desat_kg_per_nms x H_secular`` (from the sheet's Feb 2005 event, ~14 kg for one
  saturation), taken from the first tank of ``state["prop.propellant_kg"]`` that has
  any, then the next (a missing key: no propellant accounting), and added to the total
  ``prop.used_kg.desat``. A desaturation that is due but cannot happen is logged once
  with its reason.
- If ``|H|`` reaches the capacity, the CMGs are saturated (``att.saturated``: they hold
  their capacity, the rest of the disturbance turns the station) and attitude is lost
  (``att.lost``, logged once). Only a desaturation (the conditions above met) recovers
  it, and that is logged. Attitude lost for want of CMGs (below) comes back when
  enough CMGs work again and the momentum is within their capacity.
- With fewer than two CMGs working the thrusters hold attitude continuously, using
  ``desat_kg_per_nms x (τ_secular + (2/π) A ω)`` kg/s (the momentum the CMGs would have
  absorbed: the secular torque plus the mean magnitude of the cyclic torque ``A ω``;
  ~85 kg/day with the data's figures, an estimate) into ``prop.used_kg.attitude_hold``;
  without thrusters attitude is lost. ``cmg_fail`` / ``cmg_repair`` (target ``cmg-1`` ..
  ``cmg-4``) change the working set.

State (``att.``): ``h_secular_nms``, ``momentum_nms``, ``momentum_fraction`` (1,);
``cmg_ok`` (4,) bool; ``cmgs_working``, ``desats`` (1,) int; ``lost``, ``held``,
``desat_allowed``, ``desat_blocked``, ``thruster_hold``, ``saturated`` (1,) bool. Totals:
``prop.used_kg.desat``, ``prop.used_kg.attitude_hold``, ``att.lost_s``.

Speed: plain float arithmetic, about 5-8 µs a frame.

Left out: the three-axis momentum vector and the CMG gimbal envelope (singularities),
attitude manoeuvres (ZPM), the torque-equilibrium attitude changing with altitude,
density and configuration, the time a desaturation takes, attitude errors and their
effect on anything but the arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..sim.schema import Key, Schema
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits
from ..sim.world import SEGMENTS
from .power import figure, read_power_data

ROS = SEGMENTS.index("ROS")
_EMPTY_KG = 1e-9


@dataclass(frozen=True)
class AttitudeConfig:
    cmg_count: int
    cmg_momentum_nms: float
    min_cmgs: int
    secular_torque_nm: float
    cyclic_momentum_nms: float
    cyclic_period_s: float
    desat_threshold: float
    desat_kg_per_nms: float
    initial_momentum_fraction: float

    @property
    def omega_rad_s(self) -> float:
        return 2.0 * math.pi / self.cyclic_period_s

    @property
    def hold_kg_per_s(self) -> float:
        """Propellant to hold attitude on thrusters alone (kg/s), see the module's docstring."""
        torque = self.secular_torque_nm + (2.0 / math.pi) * self.cyclic_momentum_nms * self.omega_rad_s
        return self.desat_kg_per_nms * torque


def load_attitude_config(text: Optional[str] = None) -> AttitudeConfig:
    """The ``[attitude]`` table of ``data/power.toml`` (or of the given TOML text)."""
    raw = read_power_data(text)
    f = {k: figure(raw, "attitude", k) for k in AttitudeConfig.__dataclass_fields__}
    cfg = AttitudeConfig(**{**f, "cmg_count": int(f["cmg_count"]), "min_cmgs": int(f["min_cmgs"])})
    if not 0 < cfg.desat_threshold < 1:
        raise ValueError("power.toml [attitude] desat_threshold: must lie in (0, 1)")
    return cfg


class Attitude(Subsystem):
    """The CMGs, the momentum they store, and desaturations by Russian thrusters."""

    name = "attitude"
    events = ("stop_desat", "allow_desat", "cmg_fail", "cmg_repair")
    event_args: dict = {}

    def __init__(self, world=None, config: Optional[AttitudeConfig] = None):
        self.config = cfg = config or load_attitude_config()
        self.cmg_ids = tuple(f"cmg-{i + 1}" for i in range(cfg.cmg_count))
        self.cmg_index = {c: i for i, c in enumerate(self.cmg_ids)}
        self.h_cmg = cfg.cmg_momentum_nms
        self.omega = cfg.omega_rad_s
        self.amp = cfg.cyclic_momentum_nms
        self.torque = cfg.secular_torque_nm
        self.threshold = cfg.desat_threshold

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        one = (1,)
        return Schema(
            owns=(
                Key("att.h_secular_nms", one, "float64", "N m s", "secular (gravity-gradient) momentum stored"),
                Key("att.momentum_nms", one, "float64", "N m s", "momentum stored in the CMGs"),
                Key("att.momentum_fraction", one, "float64", "1", "stored momentum over the working CMGs' capacity"),
                Key("att.cmg_ok", ("cmgs",), "bool", "1", "each control moment gyroscope working"),
                Key("att.cmgs_working", one, "int64", "1", "CMGs working"),
                Key("att.desats", one, "int64", "1", "thruster desaturations so far"),
                Key("att.lost", one, "bool", "1", "attitude control lost"),
                Key("att.held", one, "bool", "1", "attitude held"),
                Key("att.desat_allowed", one, "bool", "1", "desaturations allowed (stop_desat / allow_desat)"),
                Key("att.desat_blocked", one, "bool", "1", "a desaturation was needed but could not happen"),
                Key("att.thruster_hold", one, "bool", "1", "the thrusters hold attitude (CMGs saturated)"),
                Key("att.saturated", one, "bool", "1", "the CMGs are saturated"),
            ),
            reads=("power.bus", "prop.thrusters_enabled", "prop.propellant_kg"),
            dims={"cmgs": self.config.cmg_count},
        )

    def reset(self, state, world, streams) -> None:
        cfg = self.config
        h0 = cfg.initial_momentum_fraction * cfg.cmg_count * cfg.cmg_momentum_nms
        state["att.h_secular_nms"] = np.array([h0])
        state["att.momentum_nms"] = np.array([h0])
        state["att.momentum_fraction"] = np.array([cfg.initial_momentum_fraction])
        state["att.cmg_ok"] = np.ones(cfg.cmg_count, dtype=bool)
        state["att.cmgs_working"] = np.array([cfg.cmg_count], dtype=np.int64)
        state["att.desats"] = np.zeros(1, dtype=np.int64)
        state["att.lost"] = np.zeros(1, dtype=bool)
        state["att.held"] = np.ones(1, dtype=bool)
        state["att.desat_allowed"] = np.ones(1, dtype=bool)
        state["att.desat_blocked"] = np.zeros(1, dtype=bool)
        state["att.thruster_hold"] = np.zeros(1, dtype=bool)
        state["att.saturated"] = np.zeros(1, dtype=bool)

    def cyclic_nms(self, t_ms: int) -> float:
        """The cyclic part of the stored momentum at UTC ``t_ms`` (N·m·s)."""
        return self.amp * math.sin(self.omega * (t_ms / 1000.0))

    def update(self, state, env, dt_s: float) -> None:
        # (its quiet frame is copied, compiled, in physics.frame_kernel.attitude_quiet: change both)
        a = state.arrays
        hs_arr = a["att.h_secular_nms"]
        h_sec = float(hs_arr.item(0))  # (item(0): a Python number without a numpy scalar between)
        lost = bool(a["att.lost"].item(0))
        working = int(a["att.cmgs_working"].item(0))
        t_end = state.t_ms + dt_s * 1000.0
        hold = a["att.thruster_hold"]

        if working < self.config.min_cmgs:
            # Too few CMGs: thrusters hold attitude while they can; the CMGs store nothing.
            why = self._thrusters_unavailable(state, a, self.config.hold_kg_per_s * dt_s)
            if why is None:
                self._spend(state, a, self.config.hold_kg_per_s * dt_s, "prop.used_kg.attitude_hold")
                if not hold[0]:
                    hold[0] = True
                    state.record("attitude", what="thruster_hold", reason=f"only {working} CMGs working")
                if lost:
                    self._set_lost(state, False, "thrusters hold attitude")
            else:
                if hold[0]:
                    hold[0] = False
                if not lost:
                    self._set_lost(state, True, f"only {working} CMGs working and {why}")
            h = h_sec + self.amp * math.sin(self.omega * t_end / 1000.0)
            self._publish(a, h, working)
            self._count_lost(state, dt_s)
            return
        if hold.item(0):
            hold[0] = False
            state.record("attitude", what="cmg_control", reason=f"{working} CMGs working")

        capacity = working * self.h_cmg
        cyclic = self.amp * math.sin(self.omega * t_end / 1000.0)
        saturated = a["att.saturated"]
        if saturated.item(0):
            # The CMGs hold all they can; the rest of the disturbance turns the station.
            h = capacity if h_sec + cyclic >= 0.0 else -capacity
            h_sec = h - cyclic
        else:
            if lost and abs(h_sec + cyclic) < capacity:  # lost for want of CMGs, and they are back
                self._set_lost(state, False, f"{working} CMGs take control")
                lost = False
            if not lost:
                h_sec += self.torque * dt_s
            h = h_sec + cyclic
        mag = abs(h)
        if mag >= self.threshold * capacity:
            cost = self.config.desat_kg_per_nms * abs(h_sec)
            why = "the Russian segment withholds desaturation" if not a["att.desat_allowed"][0] else None
            if why is None:
                why = self._thrusters_unavailable(state, a, cost)
            if why is None:
                self._spend(state, a, cost, "prop.used_kg.desat")
                a["att.desats"][0] += 1
                state.record("attitude", what="desaturation", unloaded_nms=round(abs(h_sec), 1),
                             propellant_kg=round(cost, 3))
                h -= h_sec
                h_sec = 0.0
                a["att.desat_blocked"][0] = False
                saturated[0] = False
                if lost:
                    self._set_lost(state, False, "desaturation unloaded the CMGs")
            else:
                if not a["att.desat_blocked"][0]:
                    a["att.desat_blocked"][0] = True
                    state.record("attitude", what="desaturation_blocked", reason=why)
                if not lost and mag >= capacity:
                    saturated[0] = True
                    self._set_lost(state, True, "CMGs saturated: " + why)
        hs_arr[0] = h_sec
        self._publish(a, h, working)
        self._count_lost(state, dt_s)

    def _publish(self, a, h: float, working: int) -> None:
        capacity = working * self.h_cmg
        mag = abs(h)
        if working >= self.config.min_cmgs and mag > capacity:
            mag = capacity  # saturated: the CMGs hold no more
        a["att.momentum_nms"][0] = mag
        a["att.momentum_fraction"][0] = mag / capacity if capacity > 0 else 1.0
        a["att.held"][0] = not a["att.lost"].item(0)

    def _count_lost(self, state, dt_s: float) -> None:
        if state.arrays["att.lost"].item(0):
            state.add_total("att.lost_s", dt_s)

    def _thrusters_unavailable(self, state, a, kg: float) -> Optional[str]:
        """Why the Russian thrusters cannot fire for ``kg`` of propellant now, or None."""
        bus = a.get("power.bus")
        if bus is not None and not bus[ROS]:
            return "the ROS bus is down"
        enabled = a.get("prop.thrusters_enabled")
        if enabled is not None and not enabled.any():
            return "the Russian thrusters are disabled"
        fuel = a.get("prop.propellant_kg")
        if fuel is not None and float(fuel.sum()) < kg:
            return f"too little propellant ({float(fuel.sum()):.1f} kg for {kg:.1f} kg)"
        return None

    def _spend(self, state, a, kg: float, total_key: str) -> None:
        fuel = a.get("prop.propellant_kg")
        if fuel is None:
            return
        left = kg
        for i in range(fuel.size):
            have = float(fuel[i])
            if have > _EMPTY_KG:
                take = have if have < left else left
                fuel[i] = have - take
                left -= take
                if left <= _EMPTY_KG:
                    break
        state.add_total(total_key, kg - max(left, 0.0))

    def _set_lost(self, state, lost: bool, reason: str) -> None:
        state["att.lost"][0] = lost
        state["att.held"][0] = not lost
        state.record("attitude", what="lost" if lost else "recovered", reason=reason)

    # ------------------------------------------------------------------ events

    def validate(self, event) -> Optional[str]:
        if event.kind in ("stop_desat", "allow_desat"):
            if event.target not in ("", "ROS"):
                return f"{event.kind} is the Russian segment's decision: target 'ROS' or none, not {event.target!r}"
        elif event.kind in ("cmg_fail", "cmg_repair"):
            if event.target not in self.cmg_index:
                return f"no CMG {event.target!r}; CMGs are {', '.join(self.cmg_ids)}"
        else:
            return f"{self.name} does not handle {event.kind!r}"
        return None

    def handle(self, state, event) -> Optional[str]:
        problem = self.validate(event)
        if problem:
            return problem
        if event.kind in ("stop_desat", "allow_desat"):
            state["att.desat_allowed"][0] = event.kind == "allow_desat"
            state["att.desat_blocked"][0] = False  # say again why, if it still cannot happen
            return None
        i = self.cmg_index[event.target]
        ok = state["att.cmg_ok"]
        if event.kind == "cmg_fail" and not ok[i]:
            return f"{event.target} has already failed"
        if event.kind == "cmg_repair" and ok[i]:
            return f"{event.target} is working"
        ok[i] = event.kind == "cmg_repair"
        state["att.cmgs_working"][0] = int(np.count_nonzero(ok))
        return None

    # ------------------------------------------------------------------ reading

    def summary(self, state) -> dict:
        """The run's attitude figures as plain numbers."""
        t = state.totals
        return {
            "desaturations": int(state["att.desats"][0]),
            "desat_propellant_kg": round(t.get("prop.used_kg.desat", 0.0), 4),
            "attitude_hold_propellant_kg": round(t.get("prop.used_kg.attitude_hold", 0.0), 4),
            "attitude_lost_h": round(t.get("att.lost_s", 0.0) / 3600.0, 4),
            "attitude_held_end": bool(state["att.held"][0]),
            "momentum_fraction_end": round(float(state["att.momentum_fraction"][0]), 4),
        }

    def channels(self) -> list[Channel]:
        src = "power.toml [attitude]"
        cap = self.config.cmg_count * self.h_cmg
        return [
            Channel("att.momentum_nms", "CMG stored momentum", "N·m·s", "att.momentum_nms", (0,),
                    Limits(warn_high=self.threshold * cap, danger_high=cap), f"{src}: sheet §6, 4 x 4,880 N·m·s"),
            Channel("att.momentum_fraction", "CMG momentum, fraction of the working CMGs' capacity", "1",
                    "att.momentum_fraction", (0,), Limits(warn_high=self.threshold, danger_high=1.0),
                    f"{src} desat_threshold (estimate)"),
            Channel("att.cmgs_working", "CMGs working", "1", "att.cmgs_working", (0,),
                    Limits(warn_low=self.config.min_cmgs + 0.5, danger_low=self.config.min_cmgs - 0.5),
                    "sheet §6: at least 2 needed"),
            Channel("att.held", "attitude held", "1", "att.held", (0,), Limits(danger_low=0.5)),
            Channel("att.desats", "desaturations done", "1", "att.desats", (0,)),
            Channel("att.desat_allowed", "Russian segment allows desaturation", "1", "att.desat_allowed", (0,)),
            Channel("att.thruster_hold", "attitude held by thrusters alone", "1", "att.thruster_hold", (0,)),
        ]
