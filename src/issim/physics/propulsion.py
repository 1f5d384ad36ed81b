"""Propulsion and orbit upkeep: propellant, reboost burns, decay, and re-entry.

The Russian segment holds the engines and the propellant (``data/propulsion.toml``): a
docked Progress burns from its own tanks, Zvezda's main engines from Zvezda's tanks and
then Zarya's. A ``burn`` (target an engine, named for the vehicle or module that carries it; the
velocity change ``dv_m_s``, or ``duration_s`` of firing at the engine's thrust, the
velocity change then following from the rocket equation) spends propellant by the rocket
equation, ``m_p = m0 (1 - exp(-Δv / (Isp g0)))``, and replaces the orbit's element set
with one raised by ``Δa = 2 a Δv / v`` (:func:`issim.orbit.upkeep.apply_delta_v`); the
burn is applied at once (a 15-minute burn is short beside weeks of decay) and its
duration, ``m Δv / F``, is recorded. Between burns SGP4's drag term lowers the orbit.

Once a simulated day the upkeep policy checks the mean altitude (``a - 6378.137 km``)
and, below its floor, plans a reboost; the burn needs the Russian segment's power, its
thrusters enabled and its consent (``refuse_burns`` withholds it). Below the re-entry
altitude, or when SGP4 reports the orbit decayed, the station is lost and the run stops.

Propellant can be lost and moved:

- ``dump_propellant`` (target an engine; ``fraction`` of what its tanks hold, all by
  default) vents it overboard unburnt: Zvezda's engines' tanks (Zvezda's and Zarya's),
  or a docked Progress's. Later burns and desaturations then fail for lack of it.
- ``transfer_propellant`` (target a docked Progress; ``kg``, by default all it holds)
  moves propellant from the Progress's tanks into Zvezda's and then Zarya's, as far as
  they have room, through the docking port's lines (reference sheet §2: "propellant is
  transferred to the ROS through the docking port"). It needs the Russian segment's
  power: the refuelling system's valves and pumps are electric.
"""

from __future__ import annotations

import math

import numpy as np

from ..inputs import bundled_toml
from ..orbit.upkeep import MU_KM3_S2, apply_delta_v, mean_elements_at, omm_key, orbit_of, set_orbit
from ..sim.memo import Memo
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits
from ..sim.world import SEGMENTS, World
from ..times import MS_PER_DAY, format_iso

G0_M_S2 = 9.80665
ROS = SEGMENTS.index("ROS")
EARTH_RADIUS_KM = 6378.137


# (element set's fields, start) -> the altitude and mean altitude there: every run of a scenario starts alike
_START_ALTITUDES = Memo(64)


def _altitudes_at(state) -> tuple[float, float]:
    """The altitude and the mean altitude (km) of the state's orbit at its time."""
    from ..orbit import propagate

    elements = orbit_of(state)
    return (propagate(elements, [state.t_ms]).geodetic()[2][0],
            mean_elements_at(elements, state.t_ms)["a_km"] - EARTH_RADIUS_KM)


def load_propulsion_config() -> dict:
    return bundled_toml("propulsion.toml")


def propellant_for(mass_kg: float, dv_m_s: float, isp_s: float) -> float:
    """Propellant (kg) to give ``mass_kg`` a velocity change ``dv_m_s`` (rocket equation)."""
    return mass_kg * (1.0 - math.exp(-dv_m_s / (isp_s * G0_M_S2)))


class Propulsion(Subsystem):
    name = "propulsion"
    events = ("burn", "refuse_burns", "allow_burns", "thrusters_off", "thrusters_on", "dump_propellant",
              "transfer_propellant")
    event_args = {"burn": ("dv_m_s", "duration_s"), "dump_propellant": ("fraction",), "transfer_propellant": ("kg",)}

    def __init__(self, world: World, config: dict | None = None):
        cfg = config or load_propulsion_config()
        vehicles = {v.id for v in world.volumes if v.kind == "vehicle"}
        self.tanks = [t for t in cfg["tanks"] if t.get("vehicle") in (None, *vehicles)]
        self.tank_index = {t["id"]: i for i, t in enumerate(self.tanks)}
        self.engines = {
            e["id"]: e for e in cfg["engines"] if all(t in self.tank_index for t in e["tanks"])
        }
        self.station_mass_kg = float(cfg["station"]["mass_kg"])
        self.floor_km = float(cfg["upkeep"]["floor_km"])
        self.raise_km = float(cfg["upkeep"]["raise_km"])
        self.reentry_km = float(cfg["reentry"]["altitude_km"])

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        one = (1,)
        return Schema(
            owns=(
                Key("prop.propellant_kg", ("prop_tanks",), "float64", "kg", "propellant in each tank"),
                Key("prop.thrusters_enabled", one, "bool", "1", "the ROS thrusters enabled"),
                Key("prop.burns_allowed", one, "bool", "1", "reboost burns allowed"),
                Key("orbit.alt_km", one, "float64", "km", "altitude now (NaN without an orbit)"),
                Key("orbit.mean_alt_km", one, "float64", "km", "mean altitude (semi-major axis less Earth radius)"),
                fact("prop.reboosts", "tuple", "the burns done so far"),
                fact("stop", "str", "why the run ended early (the station lost); absent while it goes on"),
            ),
            reads=("power.bus",),
            writes=("orbit.version", "orbit.omm"),  # a burn replaces the orbit the engine holds
            dims={"prop_tanks": len(self.tanks)},
        )

    def reset(self, state, world, streams) -> None:
        state["prop.propellant_kg"] = np.array([float(t["initial_kg"]) for t in self.tanks])
        state["prop.thrusters_enabled"] = np.ones(1, dtype=bool)
        state["prop.burns_allowed"] = np.ones(1, dtype=bool)
        state["orbit.alt_km"] = np.full(1, np.nan)
        state["orbit.mean_alt_km"] = np.full(1, np.nan)
        state.facts["prop.reboosts"] = ()
        omm = state.facts.get("orbit.omm")
        if omm:  # the altitudes at the start, before the first frame
            altitudes = _START_ALTITUDES.get((omm_key(omm), state.t_ms), lambda: _altitudes_at(state))
            state["orbit.alt_km"][0], state["orbit.mean_alt_km"][0] = altitudes

    def update(self, state, env, dt_s: float) -> None:
        # (its day and re-entry tests are copied, compiled, in physics.frame_kernel: change both)
        alt = env.alt_km
        state.arrays["orbit.alt_km"][0] = alt
        if env.elements is None:
            return
        if not math.isfinite(alt) or alt < self.reentry_km:
            if not state.facts.get("stop"):
                why = "SGP4 reports the orbit decayed" if not math.isfinite(alt) else f"altitude {alt:.0f} km"
                state.record("station", what="lost", reason=f"re-entry: {why}")
                state.facts["stop"] = f"station lost on re-entry ({why})"
            return
        if state.frame == 0 or state.t_ms % MS_PER_DAY < round(dt_s * 1000):
            mean = mean_elements_at(env.elements, state.t_ms)
            state["orbit.mean_alt_km"][0] = mean["a_km"] - EARTH_RADIUS_KM
            if state["orbit.mean_alt_km"][0] < self.floor_km:
                self._upkeep(state, env.elements, mean["a_km"])

    def validate(self, event):
        if event.kind == "burn":
            if event.target not in self.engines:
                return f"no engine {event.target!r}; engines: {', '.join(self.engines)}"
            given = [k for k in ("dv_m_s", "duration_s") if event.arg(k) is not None]
            if len(given) != 1:
                return "a burn needs exactly one of args.dv_m_s (m/s) and args.duration_s (s)"
            value, top = event.arg(given[0]), {"dv_m_s": 20.0, "duration_s": 7_200.0}[given[0]]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= top:
                what = "a velocity change in m/s" if given[0] == "dv_m_s" else "a firing time in seconds"
                return f"args.{given[0]} must be {what} in (0, {top:g}]"
            return None
        if event.kind in ("dump_propellant", "transfer_propellant"):
            return self._move_problem(event)
        if event.target != "ROS":
            return f"{event.kind} acts on the Russian segment: target 'ROS'"
        return None

    def _move_problem(self, event) -> str | None:
        if event.target not in self.engines:
            return f"no engine {event.target!r}; engines: {', '.join(self.engines)}"
        name, top = ("fraction", 1.0) if event.kind == "dump_propellant" else ("kg", 1.0e5)
        value = event.arg(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                  or not 0 < value <= top):
            return f"args.{name} must be a number in (0, {top:g}]"
        if event.kind == "transfer_propellant" and (event.target == "zvezda" or "zvezda" not in self.engines):
            return "propellant is transferred from a docked Progress (target its engine) into Zvezda's tanks"
        return None

    def handle(self, state, event):
        problem = self.validate(event)
        if problem:
            return problem
        flags = {"refuse_burns": ("prop.burns_allowed", False), "allow_burns": ("prop.burns_allowed", True),
                 "thrusters_off": ("prop.thrusters_enabled", False), "thrusters_on": ("prop.thrusters_enabled", True)}
        if event.kind in flags:
            key, value = flags[event.kind]
            state[key][0] = value
            return None
        if event.kind == "dump_propellant":
            return self.dump(state, event.target, float(event.arg("fraction", 1.0)))
        if event.kind == "transfer_propellant":
            kg = event.arg("kg")
            return self.transfer(state, event.target, None if kg is None else float(kg))
        dv = event.arg("dv_m_s")
        if dv is None:
            dv = self.dv_for_duration(state, event.target, float(event.arg("duration_s")))
        return self.burn(state, event.target, float(dv), event.source)

    def dv_for_duration(self, state, engine_id: str, duration_s: float) -> float:
        """The velocity change (m/s) of firing ``engine_id`` for ``duration_s`` at its thrust:
        ``Δv = Isp g0 ln(m0 / (m0 - F t / (Isp g0)))``, the propellant flow ``F / (Isp g0)``."""
        engine = self.engines[engine_id]
        exhaust_m_s = engine["isp_s"] * G0_M_S2
        mass = self.station_mass_kg + float(state["prop.propellant_kg"].sum())
        spent = min(engine["thrust_n"] * duration_s / exhaust_m_s, 0.5 * mass)
        return exhaust_m_s * math.log(mass / (mass - spent))

    # ------------------------------------------------------------------ burns

    def burn(self, state, engine_id: str, dv_m_s: float, source: str) -> str | None:
        """Fire ``engine_id`` for ``dv_m_s``; ``None`` when done, else why not."""
        before = orbit_of(state)
        if before is None:
            return "this simulation has no orbit to change"
        if not state["power.bus"][ROS]:
            return "the Russian segment has no power for its engines"
        if not state["prop.thrusters_enabled"][0]:
            return "the Russian segment's thrusters are disabled"
        if not state["prop.burns_allowed"][0]:
            return "the Russian segment refuses the burn"
        engine = self.engines[engine_id]
        tanks = [self.tank_index[t] for t in engine["tanks"]]
        fuel = state["prop.propellant_kg"]
        mass = self.station_mass_kg + float(fuel.sum())
        need = propellant_for(mass, dv_m_s, engine["isp_s"])
        if fuel[tanks].sum() < need:
            return f"{engine_id} has {fuel[tanks].sum():.0f} kg of propellant; the burn needs {need:.0f} kg"
        left = need
        for i in tanks:
            take = min(left, fuel[i])
            fuel[i] -= take
            left -= take
        after = apply_delta_v(before, state.t_ms, dv_m_s)
        set_orbit(state, after)
        duration_s = mass * dv_m_s / engine["thrust_n"]
        gain_km = after.semi_major_axis_km - mean_elements_at(before, state.t_ms)["a_km"]
        # the mean altitude shows the burn at once, not at the next UTC midnight
        state["orbit.mean_alt_km"][0] = mean_elements_at(after, state.t_ms)["a_km"] - EARTH_RADIUS_KM
        record = (format_iso(state.t_ms), engine_id, round(dv_m_s, 4), round(need, 3), round(duration_s, 1),
                  round(gain_km, 4), source)
        state.facts["prop.reboosts"] = state.facts["prop.reboosts"] + (record,)
        state.add_total("prop.used_kg.reboost", need)
        state.record("propulsion", what="burn", engine=engine_id, dv_m_s=round(dv_m_s, 4),
                     propellant_kg=round(need, 3), duration_s=round(duration_s, 1), raise_km=round(gain_km, 4))
        return None

    def dump(self, state, engine_id: str, fraction: float) -> str | None:
        """Vent ``fraction`` of the propellant in ``engine_id``'s tanks overboard."""
        tanks = [self.tank_index[t] for t in self.engines[engine_id]["tanks"]]
        fuel = state["prop.propellant_kg"]
        if fuel[tanks].sum() <= 0.0:
            return f"{engine_id}'s tanks are empty"
        lost = fuel[tanks] * fraction
        fuel[tanks] -= lost
        state.add_total("prop.used_kg.dumped", float(lost.sum()))
        state.record("propulsion", what="propellant dumped", engine=engine_id, kg=round(float(lost.sum()), 3))
        return None

    def transfer(self, state, source_id: str, kg: float | None) -> str | None:
        """Move ``kg`` (default: all) from ``source_id``'s tanks into Zvezda's engines' tanks,
        as far as they have room; needs the ROS bus."""
        if not state["power.bus"][ROS]:
            return "the Russian segment has no power for the refuelling system"
        src = [self.tank_index[t] for t in self.engines[source_id]["tanks"]]
        dst = [self.tank_index[t] for t in self.engines["zvezda"]["tanks"]]
        fuel = state["prop.propellant_kg"]
        room = [float(self.tanks[i]["capacity_kg"]) - float(fuel[i]) for i in dst]
        want = min(float(fuel[src].sum()) if kg is None else kg, float(fuel[src].sum()), sum(room))
        if want <= 0.0:
            return (f"{source_id} has no propellant to give" if fuel[src].sum() <= 0.0
                    else "Zvezda's and Zarya's tanks are full")
        left = want
        for i in src:
            take = min(left, float(fuel[i]))
            fuel[i] -= take
            left -= take
        left = want
        for i, r in zip(dst, room):
            put = min(left, r)
            fuel[i] += put
            left -= put
        state.record("propulsion", what="propellant transferred", source=source_id, kg=round(want, 3))
        return None

    def _upkeep(self, state, elements, a_km: float) -> None:
        v_m_s = math.sqrt(MU_KM3_S2 / a_km) * 1000.0
        dv = self.raise_km / (2.0 * a_km) * v_m_s
        fuel = state["prop.propellant_kg"]
        order = [e for e in ("progress-ms", "zvezda") if e in self.engines]
        engine = next((e for e in order if fuel[[self.tank_index[t] for t in self.engines[e]["tanks"]]].sum() > 1.0),
                      order[-1] if order else None)
        if engine is None:
            return
        reason = self.burn(state, engine, dv, "upkeep")
        if reason:
            state.record("propulsion", what="reboost refused", engine=engine, reason=reason)

    # ------------------------------------------------------------------ reading

    def summary(self, state) -> dict:
        reboosts = [
            {"at": at, "engine": eng, "dv_m_s": dv, "propellant_kg": kg, "duration_s": dur, "raise_km": km,
             "source": src}
            for at, eng, dv, kg, dur, km, src in state.facts.get("prop.reboosts", ())
        ]
        return {"reboosts": reboosts, "propellant_kg": {t["id"]: round(float(k), 3) for t, k in
                                                       zip(self.tanks, state["prop.propellant_kg"])},
                "lost": state.facts.get("stop")}

    def channels(self) -> list[Channel]:
        out = [
            Channel("orbit.alt_km", "geodetic altitude", "km", "orbit.alt_km", (0,),
                    Limits(349.0, 459.0, 200.0, None), "sheet §6 altitude band 349-459 km; danger an estimate"),
            Channel("orbit.mean_alt_km", "mean altitude (a - 6378.137 km), daily and after each burn", "km", "orbit.mean_alt_km", (0,),
                    Limits(349.0, 459.0), "sheet §6, §8"),
            Channel("prop.thrusters_enabled", "Russian thrusters enabled", "1", "prop.thrusters_enabled", (0,)),
            Channel("prop.burns_allowed", "Russian segment consents to burns", "1", "prop.burns_allowed", (0,)),
        ]
        for i, t in enumerate(self.tanks):
            out.append(Channel(f"prop.{t['id']}.propellant_kg", f"propellant in {t['id']}", "kg", "prop.propellant_kg",
                               (i,), Limits(warn_low=0.1 * t["capacity_kg"]), "data/propulsion.toml"))
        return out
