"""Cabin air, module by module.

Each pressurized volume holds O2, N2, CO2 and water vapour as ideal gases (moles, at
the volume's cabin temperature). Between volumes, through open hatches only:

- **pressure equalisation**: bulk flow from the higher pressure to the lower, carrying
  the upstream mixture. An open hatchway (about a square metre) passes a leak's flow
  with a pressure drop of pascals, so its conductance is set to equalise in 0.01 s, and
  the pressures are solved implicitly each step (stable for any conductance). A closed
  hatch's equalisation valve (25 mm, an estimate) passes orifice flow,
  ``Cd A sqrt(2 ρ Δp)``, linearised at each step's pressure difference.
- **ventilation**: with the hatch open and its fan's segment powered, the IMV fan
  exchanges ``Q`` m³/s each way (the flows of ``data/air.toml``); without a fan, only a
  small passive exchange. Exchanges are integrated exactly for each link
  (concentration differences decay as ``exp(-Q (1/Va + 1/Vb) t)``).
- **leaks** to vacuum through a hole of area ``A``: choked flow,
  ``mdot = Cd A p sqrt(γ M / (R T)) (2/(γ+1))^((γ+1)/(2(γ-1)))``. The state keeps each
  volume's effective area ``Cd A`` (``atm.leak_area_m2``), so a ``hole`` event may give
  the hole as drilled (``area_m2`` or ``diameter_mm``: a sharp-edged orifice, ``Cd`` 0.61
  unless ``cd`` says otherwise), as an equivalent hole (``equivalent_diameter_mm``: the
  ideal nozzle, ``Cd`` = 1, which is how a leak measured by its rate is usually sized),
  or as the leak's mass rate when it starts (``kg_per_day``, at that volume's pressure and
  temperature then); the flow then follows the pressure as for any hole. So at a fixed
  temperature (the walls hold the air near cabin temperature: an isothermal blowdown)
  each volume empties as ``exp(-t/τ)`` with ``τ = V / (Cd A C_γ c)``, ``c`` the speed of
  sound. That is integrated exactly, so any hole, small or as large as a hatch, is stable;
  when a hole drains faster than the hatch flows can follow within a frame, the frame
  is split into sub-steps.

A module's **vent** (``open_vent`` / ``close_vent``, target a module) is its valve to
space opened by hand: a hole of the size of the ISS pressure control assembly's vent
relief valve port, 56 mm across (reference sheet §4a, from *Living Together in Space*,
NASA TM-1998-206956), sharp-edged (``Cd`` 0.61), added to the module's leak area while
it is open (``atm.vent_open``); ``patch`` closes the holes but not an open vent. From
101.3 kPa a module of ``V`` m³ with its hatches closed falls as ``exp(-t/τ)``,
``τ = V / (Cd A C_γ c)``: about ``3.3 V`` seconds (Destiny, 105 m³: τ ≈ 6 min), and
through open hatches its neighbours go with it.

Hatches obey a force limit: a crew member can open or close a hatch against at most
:data:`MAX_HATCH_DP_PA` of pressure difference (about 300 N on a one-square-metre
hatch, an estimate); beyond that the hatch stays as it is, and the refusal says so.
The hatch's equalisation valve (``equalize``) bleeds the difference away first; it
shuts when the hatch is opened or closed again. A departed vehicle's hatch (the control
subsystem's ``control.departed``) neither opens nor bleeds: there is vacuum behind it.
"""

from __future__ import annotations

import numpy as np

from ..sim.bound import Bound
from ..sim.fastnp import count_nonzero
from ..sim.schema import Key, Schema
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits, kept_channels
from ..sim.world import World
from .gas import (
    CO2,
    GAMMA_AIR,
    H2O,
    MOLAR_MASS_KG_PER_MOL,
    N2,
    O2,
    PA_PER_MMHG,
    R_J_PER_MOL_K,
    SPECIES,
    gas_totals_key,
    saturation_pressure_pa,
)

ORIFICE_DISCHARGE_COEFFICIENT = 0.61  # sharp-edged hole; textbook value
HATCH_EQUALISE_TIME_S = 0.01  # an open hatchway: effectively at once (estimate)
VALVE_AREA_M2 = 4.9e-4  # a hatch's equalisation valve, about 25 mm across (estimate)
MAX_HATCH_DP_PA = 300.0  # force a crew member can apply to a ~1 m² hatch (estimate)
VENT_DIAMETER_MM = 56.0  # the PCA vent relief valve port, Ø 0.056 m (sheet §4a, NASA TM-1998-206956)
VENT_AREA_M2 = ORIFICE_DISCHARGE_COEFFICIENT * np.pi / 4.0 * (VENT_DIAMETER_MM / 1000.0) ** 2  # effective
_CHOKE = (2.0 / (GAMMA_AIR + 1.0)) ** ((GAMMA_AIR + 1.0) / (2.0 * (GAMMA_AIR - 1.0)))
_MAX_SUBSTEPS = 200


HOLE_ARGS = ("area_m2", "diameter_mm", "equivalent_diameter_mm", "kg_per_day")
_HOLE_LIMITS = {"area_m2": 10.0, "diameter_mm": 3000.0, "equivalent_diameter_mm": 3000.0, "kg_per_day": 1.0e7}


def leak_rate_per_s(leak_area_m2, volume_m3, temperature_k, molar_mass_kg):
    """The e-folding rate (1/s) of a volume emptying to vacuum through an effective
    (discharge coefficient x hole) area."""
    sound_m_s = np.sqrt(GAMMA_AIR * R_J_PER_MOL_K * temperature_k / molar_mass_kg)
    return leak_area_m2 * _CHOKE * sound_m_s / volume_m3


def choked_mass_flux(pressure_pa, temperature_k, molar_mass_kg):
    """Mass flow (kg/s) through one square metre of ideal nozzle to vacuum."""
    return pressure_pa * _CHOKE * np.sqrt(GAMMA_AIR * molar_mass_kg / (R_J_PER_MOL_K * temperature_k))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _hole_problem(event) -> str | None:
    """Why a ``hole`` event's arguments are not one size (and an optional ``cd``), or None."""
    given = [k for k in HOLE_ARGS if event.arg(k) is not None]
    if len(given) != 1:
        return ("a hole needs exactly one of args." + ", args.".join(HOLE_ARGS)
                + (f"; got {', '.join(given)}" if given else ""))
    kind = given[0]
    value = event.arg(kind)
    if not _number(value) or not 0 < value <= _HOLE_LIMITS[kind]:
        return f"args.{kind} must be a number in (0, {_HOLE_LIMITS[kind]:g}]"
    cd = event.arg("cd")
    if cd is not None:
        if kind not in ("area_m2", "diameter_mm"):
            return f"args.cd goes with a hole's area_m2 or diameter_mm, not with {kind}"
        if not _number(cd) or not 0 < cd <= 1:
            return "args.cd, the hole's discharge coefficient, must be a number in (0, 1]"
    return None


class Atmosphere(Subsystem):
    """Air in every volume, its exchange through hatches, and leaks to space."""

    name = "atm"
    events = ("open_hatch", "close_hatch", "equalize", "hole", "patch", "open_vent", "close_vent")
    event_args = {"hole": (*HOLE_ARGS, "cd")}

    def __init__(self, world: World):
        self.world = world
        self.volume_m3 = np.array([v.volume_m3 for v in world.volumes])
        self.n_volumes = len(world.volumes)
        links = world.links
        self.a = np.array([l.a for l in links], dtype=np.int64)
        self.b = np.array([l.b for l in links], dtype=np.int64)
        self.imv_m3_s = np.array([l.imv_m3_s for l in links])
        self.passive_m3_s = np.array([l.passive_m3_s for l in links])
        self.fan_bus = np.array([max(l.powered_by, 0) for l in links], dtype=np.int64)
        self.has_fan = np.array([l.powered_by >= 0 for l in links])
        # incidence: +1 at a, -1 at b; a flow x on a link (a -> b) changes n by -B x
        self.incidence = np.zeros((self.n_volumes, len(links)))
        self.incidence[self.a, np.arange(len(links))] = 1.0
        self.incidence[self.b, np.arange(len(links))] = -1.0
        self.inv_v_sum = 1.0 / self.volume_m3[self.a] + 1.0 / self.volume_m3[self.b]
        # The vehicle (volume index) behind each link, -1 for a link between modules.
        kinds = [v.kind for v in world.volumes]
        from .kernel_args import tree_order

        self.tree = tree_order(self.n_volumes, self.a, self.b)  # None if the hatches make a cycle
        self.is_module = np.array([k != "vehicle" for k in kinds])
        self._packed = None  # the kernel's parameters, packed at the first frame
        self.link_vehicle = np.array([l.a if kinds[l.a] == "vehicle" else l.b if kinds[l.b] == "vehicle" else -1
                                      for l in links], dtype=np.int64)

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        v, g = ("volumes",), ("volumes", "gases")
        return Schema(
            owns=(
                Key("atm.temperature_k", v, "float64", "K", "cabin temperature of each volume"),
                Key("atm.moles", g, "float64", "mol", "amount of O2, N2, CO2, H2O in each volume"),
                Key("atm.initial_moles", g, "float64", "mol", "atm.moles at the start, for the gas balance"),
                Key("atm.leak_area_m2", v, "float64", "m2",
                    "effective area of the holes to vacuum in each volume (discharge coefficient x area)"),
                Key("atm.leak_kg_per_day", v, "float64", "kg/d", "air lost to vacuum from each volume, now"),
                Key("atm.vent_open", v, "bool", "1", "each module's vent valve to space open by hand"),
                Key("hatch.open", ("links",), "bool", "1", "each hatch open"),
                Key("hatch.valve_open", ("links",), "bool", "1", "each closed hatch's equalisation valve open"),
                Key("atm.pp_pa", g, "float64", "Pa", "partial pressures, derived from atm.moles"),
                Key("atm.pressure_pa", v, "float64", "Pa", "total pressure of each volume"),
            ),
            reads=("power.bus", "control.departed"),
            dims={"volumes": self.n_volumes, "links": len(self.world.links), "gases": len(SPECIES)},
        )

    def reset(self, state, world, streams) -> None:
        c = world.cabin
        t = np.full(self.n_volumes, c.temperature_k)
        pp = np.empty((self.n_volumes, 4))
        pp[:, O2] = c.pp_o2_pa
        pp[:, CO2] = c.pp_co2_pa
        pp[:, H2O] = c.relative_humidity * saturation_pressure_pa(t)
        pp[:, N2] = c.total_pa - pp[:, O2] - pp[:, CO2] - pp[:, H2O]
        state["atm.temperature_k"] = t
        state["atm.moles"] = pp * self.volume_m3[:, None] / (R_J_PER_MOL_K * t[:, None])
        state["atm.initial_moles"] = state["atm.moles"].copy()  # for the gas balance
        state["atm.leak_area_m2"] = np.zeros(self.n_volumes)
        state["atm.leak_kg_per_day"] = np.zeros(self.n_volumes)
        state["atm.vent_open"] = np.zeros(self.n_volumes, dtype=bool)
        state["hatch.open"] = np.array([l.initially_open for l in world.links], dtype=bool)
        state["hatch.valve_open"] = np.zeros(len(world.links), dtype=bool)
        self._derive(state)

    def update(self, state, env, dt_s: float) -> None:
        if self.tree is None:  # a hatch graph with a cycle: the general solve
            self.update_reference(state, env, dt_s)
            return
        if self._packed is None:
            self._bind_kernel()
        self._settle(state, self._kernel(state.arrays, float(dt_s)))

    def _bind_kernel(self) -> None:
        """The compiled frame, its parameters packed once (at the first frame, so that building
        a simulation does not import numba)."""
        from ..sim.kernels import kernel
        from .kernel_args import pack_atmosphere

        self._packed = pack_atmosphere(self.a, self.b, self.fan_bus, self.has_fan, self.imv_m3_s,
                                       self.passive_m3_s, self.inv_v_sum, *self.tree, _CHOKE, HATCH_EQUALISE_TIME_S,
                                       ORIFICE_DISCHARGE_COEFFICIENT * VALVE_AREA_M2, _MAX_SUBSTEPS)
        self._kernel = Bound(kernel("atmosphere_frame"), self._kernel_arrays)  # the state's arrays kept while the same

    def _settle(self, state, leaked) -> None:
        """After the compiled frame: the moles ``leaked`` of each species, added to the totals."""
        if count_nonzero(leaked):
            for i, s in enumerate(SPECIES):
                state.add_total(gas_totals_key("out", s, "leak"), leaked[i])

    def _kernel_arrays(self, a) -> tuple:
        """The kernel's arguments but the frame's length, from ``state.arrays`` (see :class:`Bound`)."""
        pressure = a["atm.pressure_pa"]  # (before the frame, and written after it)
        return (a["atm.moles"], a["atm.temperature_k"], a["atm.leak_area_m2"], a["hatch.open"], a["hatch.valve_open"],
                a["power.bus"], pressure, self.volume_m3, *self._packed, a["atm.leak_kg_per_day"], a["atm.pp_pa"],
                pressure)

    def update_reference(self, state, env, dt_s: float) -> None:
        """The frame in numpy, as the model reads (and for a hatch graph with a cycle):
        the compiled kernel (:mod:`issim.physics.atm_kernel`) must agree with it."""
        n = state["atm.moles"]
        temp = state["atm.temperature_k"]
        hole = state["atm.leak_area_m2"]
        open_ = state["hatch.open"]
        valve = state["hatch.valve_open"] & ~open_
        bus = state["power.bus"]

        leak_k = np.zeros(self.n_volumes)
        if hole.any():
            m = n.sum(axis=1)
            mix_m = np.where(m > 1e-9, (n @ MOLAR_MASS_KG_PER_MOL) / np.maximum(m, 1e-9), 0.029)  # empty: air
            leak_k = leak_rate_per_s(hole, self.volume_m3, temp, mix_m)
        substeps = 1
        if leak_k.max(initial=0.0) * dt_s > 0.1 and (open_.any() or valve.any()):
            substeps = int(min(_MAX_SUBSTEPS, np.ceil(leak_k.max() * dt_s / 0.1)))
        h = dt_s / substeps

        # Exchange (mixing) per link, exact for an isolated pair over one sub-step and
        # capped so that a volume with several links cannot overshoot.
        flow = np.where(self.has_fan & bus[self.fan_bus], self.imv_m3_s, self.passive_m3_s)
        mix_q = np.where(open_, flow, 0.0)
        degree = np.bincount(self.a[open_], minlength=self.n_volumes) + np.bincount(
            self.b[open_], minlength=self.n_volumes
        )
        worst = np.maximum(degree[self.a], degree[self.b]).clip(min=1)
        mix_g = np.minimum(-np.expm1(-mix_q * self.inv_v_sum * h) / self.inv_v_sum, 1.0 / worst / self.inv_v_sum)
        # Bulk flow: conductance per link (mol/(s·Pa)) from its equalisation time.
        d = R_J_PER_MOL_K * temp / self.volume_m3  # Pa per mol in each volume
        g = np.where(open_, 1.0 / (HATCH_EQUALISE_TIME_S * (d[self.a] + d[self.b])), 0.0)
        if valve.any():
            g = np.where(valve, self._valve_conductance(state), g)
        coupled = bool(g.any())
        if coupled:
            # Implicit in the pressures: (I + h B G Bᵀ D) N' = N is stable for any
            # conductance and reaches the exact steady state under a steady leak.
            system = np.eye(self.n_volumes) + h * (self.incidence * g) @ (self.incidence.T * d)

        leaked = np.zeros(4)
        if leak_k.any() or state["atm.leak_kg_per_day"].any():
            state["atm.leak_kg_per_day"] = leak_k * (n @ MOLAR_MASS_KG_PER_MOL) * 86_400.0
        for _ in range(substeps):
            if leak_k.any():
                keep = np.exp(-leak_k * h)
                leaked += ((1.0 - keep)[:, None] * n).sum(axis=0)
                n *= keep[:, None]
            x = mix_g[:, None] * (n[self.a] / self.volume_m3[self.a, None] - n[self.b] / self.volume_m3[self.b, None])
            if coupled:
                total = n.sum(axis=1)
                p_next = np.linalg.solve(system, total) * d
                bulk = h * g * (p_next[self.a] - p_next[self.b])  # mol, a -> b
                upstream = np.where(bulk >= 0, self.a, self.b)
                share = n[upstream] / np.maximum(total[upstream], 1e-300)[:, None]
                x += bulk[:, None] * share
            n -= self.incidence @ x
        np.maximum(n, 0.0, out=n)
        if leaked.any():
            for i, s in enumerate(SPECIES):
                state.add_total(gas_totals_key("out", s, "leak"), leaked[i])
        self._derive(state)

    def validate(self, event):
        if event.kind in ("hole", "patch", "open_vent", "close_vent"):
            if event.target not in self.world.index:
                return f"no module or vehicle {event.target!r}"
            if event.kind == "hole":
                return _hole_problem(event)
            if event.kind in ("open_vent", "close_vent") and not self.is_module[self.world.index[event.target]]:
                return f"{event.target} is a vehicle; vents are the modules' (target a module)"
            return None
        if event.target not in self.world.link_index:
            return f"no hatch {event.target!r} (hatches are named like 'zarya-zvezda'; see issim station)"
        return None

    def handle(self, state, event):
        if event.kind == "hole":
            v = self._volume(event.target)
            state["atm.leak_area_m2"][v] += self._leak_area(state, v, event)
            return None
        if event.kind == "patch":  # the holes, not an open vent
            v = self._volume(event.target)
            state["atm.leak_area_m2"][v] = VENT_AREA_M2 if state["atm.vent_open"][v] else 0.0
            return None
        if event.kind in ("open_vent", "close_vent"):
            v = self._volume(event.target)
            want = event.kind == "open_vent"
            if bool(state["atm.vent_open"][v]) == want:
                return f"the vent of {event.target} is already {'open' if want else 'shut'}"
            state["atm.vent_open"][v] = want
            area = state["atm.leak_area_m2"]
            area[v] = area[v] + VENT_AREA_M2 if want else max(area[v] - VENT_AREA_M2, 0.0)
            return None
        i = self.world.link_index.get(event.target)
        if i is None:
            return f"no hatch {event.target!r}"
        v = int(self.link_vehicle[i])
        if v >= 0 and event.kind != "close_hatch" and "control.departed" in state and state["control.departed"][v]:
            return f"{self.world.volumes[v].id} has undocked; hatch {event.target} stays shut"
        dp = abs(self.pressure_difference_pa(state, i))
        if event.kind == "equalize":
            state["hatch.valve_open"][i] = True
            return None
        want_open = event.kind == "open_hatch"
        if state["hatch.open"][i] == want_open:
            return None
        if dp > MAX_HATCH_DP_PA:
            return (
                f"a pressure difference of {dp / 1000:.1f} kPa holds hatch {event.target} "
                f"(a crew member can move it against {MAX_HATCH_DP_PA / 1000:.1f} kPa at most); equalize first"
            )
        state["hatch.open"][i] = want_open
        state["hatch.valve_open"][i] = False
        return None

    # ------------------------------------------------------------------ helpers

    def _leak_area(self, state, v: int, event) -> float:
        """A ``hole`` event's effective area (m², discharge coefficient included)."""
        given = {k: float(event.arg(k)) for k in HOLE_ARGS if event.arg(k) is not None}
        (kind, value), = given.items()
        if kind == "kg_per_day":  # the hole that loses that much at this volume's air now
            n = state["atm.moles"][v]
            molar = float(n @ MOLAR_MASS_KG_PER_MOL) / max(float(n.sum()), 1e-9)
            flux = choked_mass_flux(float(state["atm.pressure_pa"][v]), float(state["atm.temperature_k"][v]), molar)
            return value / 86_400.0 / flux if flux > 0 else 0.0
        if kind == "equivalent_diameter_mm":
            return np.pi / 4.0 * (value / 1000.0) ** 2
        area = value if kind == "area_m2" else np.pi / 4.0 * (value / 1000.0) ** 2
        cd = event.arg("cd")
        return (ORIFICE_DISCHARGE_COEFFICIENT if cd is None else float(cd)) * area

    def _valve_conductance(self, state) -> np.ndarray:
        """Orifice flow through an open valve, linearised at the present difference.

        ``mdot = Cd A sqrt(2 ρ Δp)``, so the conductance ``mdot / (M Δp)`` (mol/(s·Pa))
        grows as the difference shrinks; a 1 Pa floor keeps it finite.
        """
        p = state["atm.pressure_pa"]
        n = state["atm.moles"]
        up = np.where(p[self.a] >= p[self.b], self.a, self.b)
        mass_kg = n[up] @ MOLAR_MASS_KG_PER_MOL
        moles = n[up].sum(axis=1)
        rho = mass_kg / self.volume_m3[up]
        molar = np.where(moles > 1e-9, mass_kg / np.maximum(moles, 1e-9), 0.029)
        dp = np.maximum(np.abs(p[self.a] - p[self.b]), 1.0)
        return ORIFICE_DISCHARGE_COEFFICIENT * VALVE_AREA_M2 * np.sqrt(2.0 * rho / dp) / molar

    def _volume(self, volume_id: str) -> int:
        try:
            return self.world.index[volume_id]
        except KeyError:
            raise KeyError(f"no module or vehicle {volume_id!r}") from None

    def pressure_difference_pa(self, state, link: int) -> float:
        p = state["atm.pressure_pa"]
        return float(p[self.a[link]] - p[self.b[link]])

    def _derive(self, state) -> None:
        n = state["atm.moles"]
        rt_over_v = R_J_PER_MOL_K * state["atm.temperature_k"] / self.volume_m3
        pp = n * rt_over_v[:, None]
        state["atm.pp_pa"] = pp
        state["atm.pressure_pa"] = pp.sum(axis=1)

    def channels(self) -> list[Channel]:
        world = self.world
        key = ("atm", tuple((v.id, v.name) for v in world.volumes), tuple(l.hatch for l in world.links))
        return kept_channels(key, self._channels)

    def _channels(self) -> list[Channel]:
        out = []
        for i, v in enumerate(self.world.volumes):
            out += [
                Channel(f"atm.{v.id}.leak_kg_per_day", f"{v.name} air lost to vacuum", "kg/d", "atm.leak_kg_per_day",
                        (i,), Limits(None, 0.5, None, None), "estimate: any leak above half a kilogram a day is a watch"),
                Channel(f"atm.{v.id}.pressure_pa", f"{v.name} total pressure", "Pa", "atm.pressure_pa", (i,),
                        Limits(97_900, 102_700, 50_000, None), "sheet §4b; total-pressure band is the acceptance band"),
                Channel(f"atm.{v.id}.pp_o2_pa", f"{v.name} O2 partial pressure", "Pa", "atm.pp_pa", (i, O2),
                        Limits(19_500, 23_100, 16_000, None), "sheet §4b (19.5-23.1 kPa); §5c (16 kPa)"),
                Channel(f"atm.{v.id}.pp_co2_pa", f"{v.name} CO2 partial pressure", "Pa", "atm.pp_pa", (i, CO2),
                        Limits(None, 4.0 * PA_PER_MMHG, None, 15 * PA_PER_MMHG),
                        "sheet §4b (5,300 ppm 24-h limit ≈ 4.0 mmHg); danger is an estimate"),
                Channel(f"atm.{v.id}.pp_h2o_pa", f"{v.name} water vapour partial pressure", "Pa", "atm.pp_pa",
                        (i, H2O), Limits(), ""),
            ]
        for i, l in enumerate(self.world.links):
            out.append(Channel(f"hatch.{l.hatch}.open", f"hatch {l.hatch} open", "1", "hatch.open", (i,)))
        return out
