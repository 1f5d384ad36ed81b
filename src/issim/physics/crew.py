"""The crew's bodies: a daily schedule, breathing, drinking, and harm from bad air.

Each person follows a day on GMT (ISS time): 8 h asleep (21:30-05:30 by default), a
half-hour of exercise in two 15-minute phases followed by an hour of recovery in four
15-minute phases, and nominal work the rest of the day (14.5 h). Exercise blocks are
staggered between people (06:00, 07:30, 09:00, ... by position in the crew list, unless
a person's spec says when), so the load is spread over the day.

**Metabolism.** Each activity has the BVAD per-activity rates of O2 consumed and CO2 and
water vapour produced (:data:`ACTIVITIES`, iss-facts.md §5b). Over a frame the schedule
is integrated exactly (a cumulative table over the minute of day), so the totals do
not depend on the frame length. Over a whole day they come to 0.819 kg O2, 1.038 kg CO2
and 1.922 kg vapour per person, the sheet's DERIVED totals. Unconscious people breathe
at the sleep rates; dead people exchange nothing. A person on EVA breathes from the
suit, so nothing goes to or from the cabin air. If a volume runs out of O2, its
occupants share what is left (and the hypoxia model takes over). Drinking water
(2.5 kg/person-day) comes out of ``water.store_kg`` and urine (1.6 kg/person-day) goes
into ``water.urine_kg``, for the segment of the person's volume, when life support has
created those arrays (BVAD 2015, §5a).

**Harm** is three buffered deficits per person, columns of ``crew.deficit``
(``n_people, 3``), plus an injury level. Each deficit grows at ``1/T`` per second, where
``T`` is the time to incapacitation in the air the person breathes, and decays with a
half-life when that air is harmless again. At 1 the person is incapacitated (they wake
again below 0.8). Beyond 1 a death hazard rises steeply (a Weibull hazard, shape 4, in
``x = (deficit - 1) * T_ref``, the time-equivalent past incapacitation at a reference
exposure); each frame a person with a non-zero hazard ``h`` dies with probability
``1 - exp(-h dt)``, drawn from their own stream ``crew.<name>``. Under harmless air
there is no hazard and nothing is drawn, so a nominal run does not depend on the seed.

- *Hypoxia*, from the O2 partial pressure breathed: ``T`` is the FAA time of useful
  consciousness (§5c) at the altitude where air has that ppO2 (``0.2095 * p_ISA(h)``,
  computed with the ISA barometric formula), midpoints of the FAA ranges; 6-8 s (7 s) at
  vacuum. From the 15,000 ft point (12.0 kPa ppO2, TUC >= 30 min) up to the sheet's
  emergency floor of 16 kPa the rate falls to 0 as the cube of the distance to the floor
  (estimate; the FAA table has no entries there). Recovery half-life 2 min (estimate).
  Death hazard: onset 2 min, median 5 min of anoxic unconsciousness (estimate).
- *Hypercapnia*, from ppCO2. The symptom level ``crew.co2_symptom`` follows the sheet's
  ISS ladder (§4b: 3,000 ppm fatigue, 3,500 missed steps, 4,000 headache, taken at
  101.325 kPa) and an estimated level 4 (>= 3 kPa: dyspnoea, dizziness). The sheet has
  no lethal or incapacitation limits (§5c, gaps #12): times to incapacitation are
  estimates from general physiology (none below 4 kPa; 8 h at 6 kPa; 1 h at 7 kPa;
  3 min at 10 % = 10 kPa = 76 mmHg; 1 min at 15 kPa; 20 s at 25 kPa and above). Death
  hazard: onset 20 min, median 40 min past incapacitation at the 10 % reference
  (estimate). Recovery half-life 5 min (estimate).
- *Low total pressure*: below the Armstrong limit (6.3 kPa) body fluids boil (ebullism);
  incapacitation after 15 s, death hazard onset 1 min and median 2 min of exposure
  (estimates after animal decompression studies). Recovery half-life 5 min (estimate).
- *Injury* (the ``injure`` event, severity 0-1; injuries combine as
  ``1 - (1 - a)(1 - b)``): 1 kills, >= 0.5 incapacitates (estimate); it heals with a
  half-life of 14 days (estimate). A wound can *bleed* (``injure`` with ``bleeding``):
  then the injury grows by 0.5 an hour (estimate: an untreated major haemorrhage kills
  within about an hour of incapacitating) and does not heal until someone treats it;
  at 1 the person dies of the injury.
- *Departed*: people in a vehicle that has undocked (``control.departed``, from the
  custody subsystem) leave the station's air and take no more harm from it: the vehicle's
  own systems and the descent are not modelled.
- *The suit* on EVA: its own air, good for ``SUIT_ENDURANCE_S`` = 8.5 h (estimate: the
  sheet has no suit figures; an EMU carries about 8 h of consumables and a 30-minute
  reserve). Once it is spent the person suffocates: hypoxia at a rate that incapacitates
  in 3 minutes, then the hypoxia hazard.

``crew.health`` is an indicator, not a model: ``(1 - injury) * (1 - worst impairment)``,
where a deficit ``d`` impairs ``d / 2`` up to incapacitation and then up to 1 with the
death probability the hazard would give at its reference exposure; 1 is well, 0.5 or
less incapacitated, 0 dead.

Events: ``move`` (target a person, ``to`` a module or vehicle id; needs a path of open
hatches), ``injure`` (``severity``, optional ``bleeding``), ``treat`` (stops a person's
bleeding), ``eva_begin`` / ``eva_end`` (from the EVA airlocks Quest and Poisk; the suit's
clock starts, the person is clipped to the structure), ``clip`` / ``unclip`` (the safety
tether, outside only), ``carried`` (``to``, ``by``: taken along by someone who moved
there, the ``carry`` command; whatever state the person is in).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from ..sim.events import Event
from ..sim.bound import Bound
from ..sim.fastnp import count_nonzero
from ..station.people import (ACTIVITY_NAMES, DEAD, EVA, EVA_AIRLOCKS, EXERCISE_1, EXERCISE_2, NOMINAL, RECOVERY_1,
                              RECOVERY_2, RECOVERY_3, RECOVERY_4, SLEEP, SUIT_ENDURANCE_S, UNCONSCIOUS)
from ..sim.state import State, add_totals
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits, kept_channels
from ..sim.world import SEGMENTS, World
from ..station import routes
from ..times import MS_PER_DAY
from .gas import CO2, H2O, MOLAR_MASS_KG_PER_MOL, O2, gas_totals_key

# ---------------------------------------------------------------------------- activities

# BVAD NASA/TP-2015-218570 Table 3.22, as coded in NASA GUNNS
# aspects/fluid/source/GunnsFluidMetabolic2.cpp (iss-facts.md §5b). Per person:
# O2 consumed, CO2 produced, water vapour produced (respiration + sweat), all kg/min;
# sensible heat kJ/h (not used yet: there is no thermal model).
#   code  name                     O2 kg/min  CO2 kg/min  H2O kg/min           heat kJ/h
ACTIVITIES = (
    (0, "nominal",                 5.68e-4,   7.2e-4,     11.77e-4,             329.0),
    (1, "sleep",                   3.6e-4,    4.55e-4,    6.3e-4,               224.0),
    (2, "exercise 0-15 min",       39.4e-4,   49.85e-4,   46.16e-4 + 1.56e-4,   514.0),
    (3, "exercise 15-30 min",      39.4e-4,   49.85e-4,   128.42e-4 + 33.52e-4, 624.0),
    (4, "recovery 0-15 min",       5.68e-4,   7.2e-4,     83.83e-4 + 15.16e-4,  568.0),
    (5, "recovery 15-30 min",      5.68e-4,   7.2e-4,     40.29e-4 + 0.36e-4,   488.0),
    (6, "recovery 30-45 min",      5.68e-4,   7.2e-4,     27.44e-4,             466.0),
    (7, "recovery 45-60 min",      5.68e-4,   7.2e-4,     20.4e-4,              455.0),
    # Not scheduled: what the body is doing instead of the schedule.
    (8, "unconscious",             3.6e-4,    4.55e-4,    6.3e-4,               224.0),  # at sleep rates
    (9, "eva",                     5.68e-4,   7.2e-4,     11.77e-4,             329.0),  # from the suit
    (10, "dead",                   0.0,       0.0,        0.0,                  0.0),
)
assert tuple(a[1] for a in ACTIVITIES) == ACTIVITY_NAMES  # the codes are the station's (station/people.py)
RATE_KG_PER_MIN = np.array([a[2:5] for a in ACTIVITIES])  # (activity, [O2, CO2, H2O])
HEAT_W = np.array([a[5] for a in ACTIVITIES]) / 3.6
SPECIES_COLUMNS = (O2, CO2, H2O)
_MOLAR_MASS = MOLAR_MASS_KG_PER_MOL[list(SPECIES_COLUMNS)]

SLEEP_START_H_UTC = 21.5  # 21:30-05:30 GMT
SLEEP_H = 8.0  # §5b schedule: 8 h sleep, 0.5 h exercise, 1 h recovery, 14.5 h nominal
EXERCISE_PHASES = (EXERCISE_1, EXERCISE_2, RECOVERY_1, RECOVERY_2, RECOVERY_3, RECOVERY_4)
PHASE_MIN = 15
EXERCISE_BLOCK_MIN = PHASE_MIN * len(EXERCISE_PHASES)
FIRST_EXERCISE_H_UTC = 6.0
EXERCISE_SLOTS = 10  # 06:00, 07:30, ..., 19:30: one block every 1.5 h, all before sleep

# BVAD 2015 (iss-facts.md §5a), per person-day.
DRINK_KG_PER_DAY = 2.5
URINE_KG_PER_DAY = 1.6


# ---------------------------------------------------------------------------- harm

MECHANISMS = ("hypoxia", "hypercapnia", "low_pressure")
HYPOXIA, HYPERCAPNIA, LOW_PRESSURE = range(3)

O2_FRACTION_OF_AIR = 0.2095
PP_O2_FLOOR_PA = 16_000.0  # §4b/§5c: ppO2 should not fall below ~16 kPa except in emergencies
TUC_VACUUM_S = 7.0  # §5c: 6-8 s at vacuum or orbital altitude
# §5c, FAA averages at rest: altitude (ft) and time of useful consciousness (s), the
# middle of each range (25,000 ft: the typical 3-5 min; 15,000 ft: the bound, >= 30 min).
FAA_TUC = (
    (15_000, 30 * 60.0),
    (18_000, 25 * 60.0),
    (22_000, 7.5 * 60.0),
    (25_000, 4 * 60.0),
    (28_000, 2.75 * 60.0),
    (30_000, 2 * 60.0),
    (35_000, 45.0),
    (40_000, 17.5),
    (43_000, 12.0),
    (50_000, 7.5),
)
FLOOR_SHAPE = 3  # estimate: rate ~ (floor - ppO2)^3 between the 15,000 ft point and the floor

ARMSTRONG_LIMIT_PA = 6_300.0  # water boils at body temperature below this
LOW_PRESSURE_INCAPACITATION_S = 15.0  # estimate (J. LeBlanc, 1966 suit depressurisation: ~14 s)

# Hypercapnia: estimates from general physiology, NOT from the sheet (it has no numeric
# incapacitation or lethal limits: §5c, gaps #12). (ppCO2 Pa, time to incapacitation s).
CO2_ONSET_PA = 4_000.0
CO2_TIME_TO_INCAPACITATION = (
    (6_000.0, 8 * 3600.0),
    (7_000.0, 60 * 60.0),
    (10_000.0, 3 * 60.0),  # ~10 % CO2 (76 mmHg): incapacitation within minutes
    (15_000.0, 60.0),
    (25_000.0, 20.0),
)
# Symptom ladder: ISS (§4b) in ppm at 760 mmHg, then an estimate for >= 3 kPa.
_PA_PER_PPM = 101_325.0e-6
CO2_SYMPTOMS = ("none", "fatigue", "missed procedure steps", "headache", "severe (dyspnoea, dizziness)")
CO2_SYMPTOM_PA = np.array([3_000 * _PA_PER_PPM, 3_500 * _PA_PER_PPM, 4_000 * _PA_PER_PPM, 3_000.0])

# Per mechanism: reference time per unit deficit past incapacitation (s), hazard onset
# and median (s past incapacitation at the reference exposure), recovery half-life (s).
# All estimates except the TUC at vacuum (§5c).
T_REF_S = np.array([TUC_VACUUM_S, 180.0, LOW_PRESSURE_INCAPACITATION_S])
HAZARD_ONSET_S = np.array([120.0, 1_200.0, 45.0])
HAZARD_MEDIAN_S = np.array([300.0, 2_400.0, 105.0])
HAZARD_SHAPE = 4.0
HAZARD_SCALE_S = (HAZARD_MEDIAN_S - HAZARD_ONSET_S) / math.log(2.0) ** (1.0 / HAZARD_SHAPE)
RECOVERY_HALF_LIFE_S = np.array([120.0, 300.0, 300.0])
WAKE_BELOW = 0.8  # an incapacitated person comes round when every deficit is below this
DEFICIT_ZERO = 1e-6  # a deficit this small is healed (keeps the nominal path cheap)

INJURY_INCAPACITATES = 0.5  # estimate
INJURY_HALF_LIFE_S = 14 * 86_400.0  # estimate
INJURY_ZERO = 1e-4
BLEED_PER_S = 0.5 / 3600.0  # estimate: from incapacitating (0.5) to death (1) in an hour untreated
SUIT_SPENT_HYPOXIA_PER_S = 1.0 / 180.0  # estimate: incapacitated 3 minutes after the suit is spent


def isa_pressure_pa(altitude_m):
    """Pressure of the ICAO/ISA standard atmosphere (Pa) at geopotential ``altitude_m``,
    0-20 km: a 6.5 K/km lapse to the tropopause at 11 km, isothermal above."""
    h = np.asarray(altitude_m, dtype=float)
    t0, p0, lapse, g0, m, r = 288.15, 101_325.0, 0.0065, 9.80665, 0.0289644, 8.31432
    t11 = t0 - lapse * 11_000.0
    p11 = p0 * (t11 / t0) ** (g0 * m / (r * lapse))
    tropo = p0 * (1.0 - lapse * np.minimum(h, 11_000.0) / t0) ** (g0 * m / (r * lapse))
    strato = p11 * np.exp(-g0 * m * (h - 11_000.0) / (r * t11))
    return np.where(h <= 11_000.0, tropo, strato)


def _hypoxia_table() -> tuple[np.ndarray, np.ndarray]:
    """(ppO2 Pa ascending, deficit rate 1/s) for :func:`numpy.interp`."""
    ft = np.array([a for a, _ in FAA_TUC], dtype=float)
    tuc = np.array([t for _, t in FAA_TUC])
    pp = O2_FRACTION_OF_AIR * isa_pressure_pa(ft * 0.3048)
    pp_15k, rate_15k = pp[0], 1.0 / tuc[0]
    ramp = np.linspace(pp_15k, PP_O2_FLOOR_PA, 17)[1:]
    ramp_rate = rate_15k * ((PP_O2_FLOOR_PA - ramp) / (PP_O2_FLOOR_PA - pp_15k)) ** FLOOR_SHAPE
    pp_all = np.concatenate([[0.0], pp[::-1], ramp])
    rate_all = np.concatenate([[1.0 / TUC_VACUUM_S], 1.0 / tuc[::-1], ramp_rate])
    return pp_all, rate_all


HYPOXIA_PP_PA, HYPOXIA_RATE_PER_S = _hypoxia_table()
HYPERCAPNIA_PP_PA = np.array([CO2_ONSET_PA] + [p for p, _ in CO2_TIME_TO_INCAPACITATION])
HYPERCAPNIA_RATE_PER_S = np.array([0.0] + [1.0 / t for _, t in CO2_TIME_TO_INCAPACITATION])


def tuc_s(pp_o2_pa):
    """Time of useful consciousness (s) breathing ``pp_o2_pa``; ``inf`` at or above the floor."""
    rate = np.interp(pp_o2_pa, HYPOXIA_PP_PA, HYPOXIA_RATE_PER_S, right=0.0)
    with np.errstate(divide="ignore"):
        return 1.0 / rate


def death_hazard_per_s(deficit):
    """Death hazard (1/s) of deficits ``(..., 3)`` at the reference exposure of each mechanism."""
    x = (deficit - 1.0) * T_REF_S - HAZARD_ONSET_S
    z = np.maximum(x, 0.0) / HAZARD_SCALE_S
    return HAZARD_SHAPE / HAZARD_SCALE_S * z ** (HAZARD_SHAPE - 1.0)


def health(deficit, injury, alive):
    """The health indicator (0-1) from deficits ``(n, 3)``, injury ``(n,)`` and alive ``(n,)``."""
    x = np.maximum((deficit - 1.0) * T_REF_S - HAZARD_ONSET_S, 0.0) / HAZARD_SCALE_S
    impairment = 0.5 * np.minimum(deficit, 1.0) - 0.5 * np.expm1(-(x**HAZARD_SHAPE))
    worst = impairment.max(axis=1, initial=0.0)
    return np.where(alive, (1.0 - injury) * (1.0 - worst), 0.0)


# ---------------------------------------------------------------------------- people


@dataclass(frozen=True)
class PersonSpec:
    """One crew member as configured: who, and where they work and sleep.

    ``module`` is where the person starts and works, ``sleep_module`` where they sleep
    (default: ``module``); both are module or docked-vehicle ids. ``exercise_hour_utc``
    starts their 1.5-h exercise block (default: staggered by position in the crew);
    ``sleep_hour_utc`` starts their 8 h of sleep. Both are GMT hours, whole minutes.
    """

    name: str
    agency: str
    module: str
    sleep_module: Optional[str] = None
    exercise_hour_utc: Optional[float] = None
    sleep_hour_utc: float = SLEEP_START_H_UTC

    @property
    def bed(self) -> str:
        return self.sleep_module or self.module


def channel_slug(name: str) -> str:
    """The part of a channel key naming a person: ``Gordon Barrett`` -> ``gordon-barrett``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "person"


def _minute_of_day(hour_utc: float, what: str, name: str) -> int:
    minute = hour_utc * 60.0
    if not (0.0 <= hour_utc < 24.0) or abs(minute - round(minute)) > 1e-6:
        raise ValueError(f"crew member {name!r}: {what} {hour_utc!r} must be a GMT hour in [0, 24) on a whole minute")
    return int(round(minute))


@lru_cache(maxsize=8)
def _schedule_tables(people: tuple) -> tuple:
    """The crew's schedule tables over the minute of day: codes ``(1440, n)``, rate per minute
    ``(1440, n, 3)`` and its running integral ``(1441, n, 3)`` in kg, and whether someone's
    sleep starts or ends at each minute (minute m against m - 1, 0 against 1439). Made once a
    process for each crew (a quarter of a build otherwise); nothing writes them."""
    n = len(people)
    rows = [day_schedule(p, i) for i, p in enumerate(people)]
    schedule = np.array(rows, dtype=np.int64).reshape(n, 1440).T.copy()
    rate_min = RATE_KG_PER_MIN[schedule]
    cum = np.concatenate([np.zeros((1, n, 3)), np.cumsum(rate_min, axis=0)])
    asleep = schedule == SLEEP
    return schedule, rate_min, cum, (asleep != np.roll(asleep, 1, axis=0)).any(axis=1).tolist()


def day_schedule(spec: PersonSpec, position: int) -> np.ndarray:
    """The activity code for each minute of the GMT day, shape ``(1440,)``."""
    codes = np.full(1440, NOMINAL, dtype=np.int64)
    sleep0 = _minute_of_day(spec.sleep_hour_utc, "sleep_hour_utc", spec.name)
    sleep = (sleep0 + np.arange(int(SLEEP_H * 60))) % 1440
    codes[sleep] = SLEEP
    if spec.exercise_hour_utc is None:
        ex0 = int(round((FIRST_EXERCISE_H_UTC + 1.5 * (position % EXERCISE_SLOTS)) * 60))
    else:
        ex0 = _minute_of_day(spec.exercise_hour_utc, "exercise_hour_utc", spec.name)
    block = (ex0 + np.arange(EXERCISE_BLOCK_MIN)) % 1440
    if (codes[block] == SLEEP).any():
        raise ValueError(
            f"crew member {spec.name!r}: the exercise block {ex0 // 60:02d}:{ex0 % 60:02d}"
            f"+1.5 h overlaps sleep from {sleep0 // 60:02d}:{sleep0 % 60:02d}; choose another exercise_hour_utc"
        )
    codes[block] = np.repeat(EXERCISE_PHASES, PHASE_MIN)
    return codes


# ---------------------------------------------------------------------------- subsystem


class Crew(Subsystem):
    """The crew's bodies: schedule, metabolism, water, health, movement.

    State (arrays over people, in the order of ``people``): ``crew.location`` (volume
    index), ``crew.activity`` (code, :data:`ACTIVITY_NAMES`), ``crew.alive``,
    ``crew.conscious``, ``crew.on_eva``, ``crew.tethered``, ``crew.bleeding`` (bools),
    ``crew.suit_s`` (suit time left on EVA, s), ``crew.deficit`` (``n, 3``: hypoxia,
    hypercapnia, low pressure; 1 = incapacitated), ``crew.injury`` and ``crew.health``
    (0-1), ``crew.co2_symptom`` (level, :data:`CO2_SYMPTOMS`). Totals: ``crew.o2_consumed_kg``,
    ``crew.co2_produced_kg``, ``crew.h2o_vapour_kg``, ``crew.days`` (person-days alive),
    ``crew.water_drunk_kg``, ``crew.urine_kg``, and the ``gas.*_mol.*.crew`` totals.

    Needs the :class:`~issim.physics.atmosphere.Atmosphere` arrays (``atm.*``,
    ``hatch.open``). With ``follow_schedule``, at the start and end of their sleep each
    person goes to their sleep or work module if open hatches join it to where they are.
    """

    name = "crew"
    events = ("move", "injure", "treat", "eva_begin", "eva_end", "clip", "unclip", "carried")
    event_args = {"move": ("to",), "carried": ("to", "by"), "injure": ("severity", "bleeding")}

    def __init__(self, world: World, people: Sequence[PersonSpec], *, follow_schedule: bool = True):
        self.world = world
        self.topology = routes.Topology.of(world)
        self.people = tuple(people)
        self.follow_schedule = follow_schedule
        self.names = tuple(p.name for p in self.people)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"crew names must be unique; got {', '.join(self.names)}")
        self.slugs = tuple(channel_slug(n) for n in self.names)
        if len(set(self.slugs)) != len(self.slugs):
            raise ValueError(f"crew names must differ in more than case and punctuation; got {', '.join(self.names)}")
        self._index = world.index
        for p in self.people:
            for field in ("module", "sleep_module"):
                where = getattr(p, field)
                if where is not None and where not in self._index:
                    raise KeyError(
                        f"crew member {p.name!r}: {field} {where!r} is not a module or docked vehicle of this "
                        f"station; volumes are: {', '.join(self._index)}"
                    )
        n = len(self.people)
        self.n_people = n
        self.work = np.array([self._index[p.module] for p in self.people], dtype=np.int64)
        self.bed = np.array([self._index[p.bed] for p in self.people], dtype=np.int64)
        # Someone who has boarded a vehicle is strapped in: the day's schedule does not take them
        # out (unless the scenario has someone living or working in it).
        self.vehicle = np.array([v.kind == "vehicle" for v in self.world.volumes], dtype=bool)
        self.vehicle[self.work] = self.vehicle[self.bed] = False
        self.segment_of_volume = np.array([SEGMENTS.index(v.segment) for v in world.volumes], dtype=np.int64)
        self._eye = np.eye(len(world.volumes))
        self.schedule, self._rate_min, self._cum, self._edge = _schedule_tables(self.people)
        self._decay: dict[float, tuple] = {}
        self._streams = None
        self._kernel = None
        self._no_water = np.zeros(len(SEGMENTS))  # for a run without life support (the kernel needs arrays)
        self._none_departed = np.zeros(len(world.volumes), dtype=bool)

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        p = ("people",)
        return Schema(
            owns=(
                fact("crew.names", "tuple", "who is who: the crew's names, in index order"),
                Key("crew.location", p, "int64", "1", "each person's volume (index)"),
                Key("crew.activity", p, "int64", "1", "each person's activity (asleep, work, exercise...)"),
                Key("crew.alive", p, "bool", "1", "each person alive"),
                Key("crew.conscious", p, "bool", "1", "each person conscious"),
                Key("crew.on_eva", p, "bool", "1", "each person outside"),
                Key("crew.tethered", p, "bool", "1", "each person clipped to the structure (on EVA)"),
                Key("crew.suit_s", p, "float64", "s", "suit time left on EVA"),
                Key("crew.bleeding", p, "bool", "1", "each person bleeding"),
                Key("crew.deficit", ("people", 3), "float64", "1", "hypoxia, hypercapnia, low-pressure deficits"),
                Key("crew.injury", p, "float64", "1", "each person's injury (1 fatal)"),
                Key("crew.health", p, "float64", "1", "each person's health indicator"),
                Key("crew.co2_symptom", p, "int64", "1", "each person's CO2 symptom level"),
            ),
            reads=("atm.pp_pa", "atm.pressure_pa", "hatch.open", "control.departed"),
            # Breathing takes O2 from and gives CO2 and vapour to the cabin's air; people
            # drink the segment's water store and fill its urine tank.
            writes=("atm.moles", "water.store_kg", "water.urine_kg"),
            dims={"people": self.n_people},
        )

    def reset(self, state: State, world, streams) -> None:
        n = self.n_people
        self._streams = streams
        state.facts["crew.names"] = self.names  # who is who, for subsystems that address people (comms)
        state["crew.location"] = self.work.copy()
        state["crew.activity"] = self.schedule[_minute(state.t_ms)].copy()
        state["crew.alive"] = np.ones(n, dtype=bool)
        state["crew.conscious"] = np.ones(n, dtype=bool)
        state["crew.on_eva"] = np.zeros(n, dtype=bool)
        state["crew.tethered"] = np.zeros(n, dtype=bool)
        state["crew.suit_s"] = np.zeros(n)
        state["crew.bleeding"] = np.zeros(n, dtype=bool)
        state["crew.deficit"] = np.zeros((n, 3))
        state["crew.injury"] = np.zeros(n)
        state["crew.health"] = np.ones(n)
        state["crew.co2_symptom"] = np.zeros(n, dtype=np.int64)
        for key in ("crew.o2_consumed_kg", "crew.co2_produced_kg", "crew.h2o_vapour_kg", "crew.days"):
            state.add_total(key, 0.0)

    def _bind_kernel(self) -> None:
        """The compiled frame and the model's constants packed once (at the first frame, so
        that building a simulation does not import numba)."""
        from ..sim.kernels import kernel
        from .kernel_args import pack_crew

        self._packed = pack_crew(RATE_KG_PER_MIN[UNCONSCIOUS], _MOLAR_MASS, DRINK_KG_PER_DAY, URINE_KG_PER_DAY,
                                 PP_O2_FLOOR_PA, CO2_ONSET_PA, ARMSTRONG_LIMIT_PA, CO2_SYMPTOM_PA,
                                 UNCONSCIOUS, DEAD, EVA, O2, CO2, H2O)
        self._totals = np.zeros(9)  # the kernel's eight totals and the count of the living
        self._kernel = Bound(kernel("crew_frame"), self._kernel_arrays)  # the state's arrays kept while the same

    def _kernel_arrays(self, a) -> tuple:
        """The kernel's arguments but the frame's own, from ``state.arrays`` (see :class:`Bound`)."""
        has_water = "water.store_kg" in a
        water = (a["water.store_kg"], a["water.urine_kg"]) if has_water else (self._no_water, self._no_water)
        departed = a.get("control.departed")
        return (a["atm.moles"], a["atm.pp_pa"], a["atm.pressure_pa"], water[0], water[1], has_water,
                a["crew.location"], a["crew.activity"], a["crew.alive"], a["crew.conscious"], a["crew.on_eva"],
                self._none_departed if departed is None else departed, a["crew.suit_s"], a["crew.deficit"],
                a["crew.injury"], a["crew.co2_symptom"], self._cum, self._rate_min, self.schedule,
                self.segment_of_volume, *self._packed, self._totals)

    def update(self, state: State, env, dt_s: float) -> None:
        if self._kernel is None:
            self._bind_kernel()
        t0 = int(state.t_ms)
        t1 = t0 + int(round(dt_s * 1000))
        m0, m1 = (t0 // 60_000) % 1440, (t1 // 60_000) % 1440  # (_minute of each)
        harmed = self._kernel(state.arrays, m0, m1, (t0 % 60_000) / 60_000.0, (t1 % 60_000) / 60_000.0,
                              t1 // MS_PER_DAY - t0 // MS_PER_DAY, float(dt_s))
        self._settle(state, harmed, t0, t1, dt_s)

    def _settle(self, state: State, harmed: int, t0: int, t1: int, dt_s: float) -> None:
        """After the compiled frame (here or in :mod:`issim.physics.frame`) over ``[t0, t1]``:
        the totals, the harm when the kernel found any (``harmed``), the moves at a sleep edge."""
        m0, m1 = (t0 // 60_000) % 1440, (t1 // 60_000) % 1440
        totals = self._totals
        t = state.totals
        values = totals.tolist()
        add_totals(t, _TOTAL_KEYS if "water.store_kg" in state.arrays else _TOTAL_KEYS[:6], values)
        # (the count of the living, exact in a float64: as count_nonzero(alive) * dt_s / 86_400.0)
        t["crew.days"] = t.get("crew.days", 0.0) + values[8] * dt_s / 86_400.0
        if harmed == 1:  # someone hurt, and nothing else: only their wounds to bring on
            self._wounds(state, state["crew.alive"], dt_s)
            self._update_consciousness(state)
        elif harmed:
            self._harm(state, state["atm.pp_pa"][state["crew.location"]], state["atm.pressure_pa"][state["crew.location"]],
                       dt_s)
        if self.follow_schedule and m1 != m0 and self._crosses_edge(t0, t1):
            self._scheduled_moves(state, m0, m1)

    def update_reference(self, state: State, env, dt_s: float) -> None:
        """The frame in numpy, as the model reads: the compiled kernel
        (:mod:`issim.physics.crew_kernel`) must agree with it."""
        t0 = state.t_ms
        t1 = t0 + int(round(dt_s * 1000))
        alive = state["crew.alive"]
        conscious = state["crew.conscious"]
        on_eva = state["crew.on_eva"]
        loc = state["crew.location"]
        m0, m1 = _minute(t0), _minute(t1)

        # What the bodies take and give over [t0, t1]: the schedule, integrated exactly.
        f0 = (t0 % 60_000) / 60_000.0
        f1 = (t1 % 60_000) / 60_000.0
        kg = (self._cum[m1] + f1 * self._rate_min[m1]) - (self._cum[m0] + f0 * self._rate_min[m0])
        days = t1 // MS_PER_DAY - t0 // MS_PER_DAY
        if days:
            kg += days * self._cum[1440]
        activity = self.schedule[m1]
        if not conscious.all():
            resting = np.where(alive[:, None], RATE_KG_PER_MIN[UNCONSCIOUS] * (dt_s / 60.0), 0.0)
            kg = np.where(conscious[:, None], kg, resting)
            activity = np.where(conscious, activity, np.where(alive, UNCONSCIOUS, DEAD))
        cabin = kg
        away = on_eva
        if "control.departed" in state:  # aboard an undocked vehicle: out of the station's air
            away = on_eva | state["control.departed"][loc]
        if away.any():
            cabin = kg * ~away[:, None]
            activity = np.where(on_eva & alive, EVA, activity)
        state["crew.activity"][:] = activity
        self._exchange_air(state, loc, cabin, kg)
        if "water.store_kg" in state:
            self._water(state, loc, alive & ~away, dt_s)
        state.add_total("crew.days", count_nonzero(alive) * dt_s / 86_400.0)

        # Harm, from the air each person breathes (as it was at the end of the last frame).
        air = state["atm.pp_pa"][loc]
        pressure = state["atm.pressure_pa"][loc]
        state["crew.co2_symptom"][:] = np.searchsorted(CO2_SYMPTOM_PA, air[:, CO2], side="right")
        bad = (air[:, O2] < PP_O2_FLOOR_PA) | (air[:, CO2] > CO2_ONSET_PA) | (pressure < ARMSTRONG_LIMIT_PA)
        if on_eva.any():
            suit = state["crew.suit_s"]
            suit[on_eva & alive] = np.maximum(suit[on_eva & alive] - dt_s, 0.0)
            bad |= on_eva & (suit <= 0.0)
        if bad.any() or state["crew.deficit"][alive].any() or state["crew.injury"][alive].any():
            self._harm(state, air, pressure, dt_s)

        if self.follow_schedule and m1 != m0 and self._crosses_edge(t0, t1):
            self._scheduled_moves(state, m0, m1)

    def validate(self, event: Event) -> Optional[str]:
        if self._person(event.target) is None:
            return f"no crew member {event.target!r}; the crew are {', '.join(self.names) or 'nobody'}"
        if event.kind in ("move", "carried") and event.arg("to") not in self._index:
            return f"move needs args.to, a module or docked vehicle id; got {event.arg('to')!r} (see issim station)"
        if event.kind == "injure":
            sev = event.arg("severity")
            if not isinstance(sev, (int, float)) or isinstance(sev, bool) or not 0.0 <= sev <= 1.0:
                return f"injure needs args.severity, a number between 0 and 1; got {sev!r}"
            if not isinstance(event.arg("bleeding", False), (bool, np.bool_)):
                return f"injure's args.bleeding must be true or false; got {event.arg('bleeding')!r}"
        return None

    def handle(self, state: State, event: Event) -> Optional[str]:
        problem = self.validate(event)
        if problem:
            return problem
        i = self._person(event.target)
        name = self.names[i]
        if event.kind == "carried":  # taken along by someone who moved (the ``carry`` command)
            return self._carried(state, i, event.arg("to"), str(event.arg("by", event.source)))
        if not state["crew.alive"][i]:
            return f"{name} is dead"
        if event.kind == "injure":
            return self._injure(state, i, event.arg("severity"), bool(event.arg("bleeding", False)))
        if event.kind == "treat":
            if not state["crew.bleeding"][i]:
                return f"{name} is not bleeding"
            state["crew.bleeding"][i] = False
            return None
        if not state["crew.conscious"][i]:
            return f"{name} is incapacitated"
        loc = int(state["crew.location"][i])
        here = self.world.volumes[loc].id
        if event.kind in ("clip", "unclip"):
            if not state["crew.on_eva"][i]:
                return f"{name} is not outside; the tether is clipped on EVA"
            want = event.kind == "clip"
            if bool(state["crew.tethered"][i]) == want:
                return f"{name} is already {'clipped on' if want else 'unclipped'}"
            state["crew.tethered"][i] = want
            return None
        if event.kind == "eva_end":
            if not state["crew.on_eva"][i]:
                return f"{name} is not on EVA"
            state["crew.on_eva"][i] = False
            state["crew.tethered"][i] = False
            return None
        if state["crew.on_eva"][i]:
            return f"{name} is on EVA outside {here}; end the EVA first"
        if event.kind == "eva_begin":
            if here not in EVA_AIRLOCKS:
                return f"{name} is in {here}; an EVA starts from an airlock: {', '.join(EVA_AIRLOCKS)}"
            state["crew.on_eva"][i] = True
            state["crew.tethered"][i] = True
            state["crew.suit_s"][i] = SUIT_ENDURANCE_S
            return None
        to = event.arg("to")
        reason = self.path_refusal(state, loc, self._index[to])
        if reason:
            return f"{name} cannot move from {here} to {to}: {reason}"
        state["crew.location"][i] = self._index[to]
        return None

    def _carried(self, state: State, i: int, to: str, by: str) -> Optional[str]:
        origin = self.world.volumes[int(state["crew.location"][i])].id
        state["crew.location"][i] = self._index[to]
        state.record("crew", person=self.names[i], what="moved", module=to, origin=origin, why=f"carried by {by}")
        return None

    def channels(self) -> list[Channel]:
        return kept_channels(("crew", self.names, self.slugs), self._channels)

    def _channels(self) -> list[Channel]:
        out = []
        src_harm = "estimates; see issim.physics.crew"
        activities = ", ".join(f"{c} {a}" for c, a in enumerate(ACTIVITY_NAMES))
        symptoms = ", ".join(f"{c} {s}" for c, s in enumerate(CO2_SYMPTOMS))
        unit_limits_dangerous = Limits(warn_high=0.5, danger_high=1.0)
        for i, (name, slug) in enumerate(zip(self.names, self.slugs)):
            k = f"crew.{slug}"
            out += [
                Channel(f"{k}.location", f"{name} location (volume index)", "1", "crew.location", (i,)),
                Channel(f"{k}.activity", f"{name} activity ({activities})",
                        "1", "crew.activity", (i,), source="BVAD Table 3.22 states (iss-facts.md §5b)"),
                Channel(f"{k}.alive", f"{name} alive", "1", "crew.alive", (i,), Limits(danger_low=0.5)),
                Channel(f"{k}.conscious", f"{name} conscious", "1", "crew.conscious", (i,), Limits(danger_low=0.5)),
                Channel(f"{k}.on_eva", f"{name} on EVA", "1", "crew.on_eva", (i,)),
                Channel(f"{k}.tethered", f"{name} clipped to the structure (on EVA)", "1", "crew.tethered", (i,)),
                Channel(f"{k}.suit_s", f"{name} suit time left on EVA (0 inside)", "s", "crew.suit_s", (i,),
                        source=src_harm),
                Channel(f"{k}.bleeding", f"{name} bleeding (a wound untreated)", "1", "crew.bleeding", (i,),
                        Limits(danger_high=0.5), src_harm),
                Channel(f"{k}.health", f"{name} health (1 well, <=0.5 incapacitated, 0 dead)", "1", "crew.health",
                        (i,), Limits(warn_low=0.9, danger_low=0.5), src_harm),
                Channel(f"{k}.hypoxia", f"{name} hypoxia deficit (1 = incapacitated)", "1", "crew.deficit",
                        (i, HYPOXIA), unit_limits_dangerous, "FAA time of useful consciousness (iss-facts.md §5c)"),
                Channel(f"{k}.hypercapnia", f"{name} hypercapnia load (1 = incapacitated)", "1", "crew.deficit",
                        (i, HYPERCAPNIA), unit_limits_dangerous, src_harm),
                Channel(f"{k}.low_pressure", f"{name} low-pressure (ebullism) deficit (1 = incapacitated)", "1",
                        "crew.deficit", (i, LOW_PRESSURE), unit_limits_dangerous, src_harm),
                Channel(f"{k}.injury", f"{name} injury (1 = fatal)", "1", "crew.injury", (i,),
                        Limits(warn_high=0.2, danger_high=INJURY_INCAPACITATES), src_harm),
                Channel(f"{k}.co2_symptom", f"{name} CO2 symptoms ({symptoms})",
                        "1", "crew.co2_symptom", (i,), Limits(warn_high=1.5, danger_high=3.5),
                        "ISS symptom ladder (iss-facts.md §4b); level 4 is an estimate"),
            ]
        return out

    # ------------------------------------------------------------------ reading

    def summary(self, state: State) -> dict:
        """Each person's state now, as plain values, by name."""
        out = {}
        for i, p in enumerate(self.people):
            d = state["crew.deficit"][i]
            out[p.name] = {
                "agency": p.agency,
                "alive": bool(state["crew.alive"][i]),
                "conscious": bool(state["crew.conscious"][i]),
                "on_eva": bool(state["crew.on_eva"][i]),
                "location": self.world.volumes[int(state["crew.location"][i])].id,
                "activity": ACTIVITY_NAMES[int(state["crew.activity"][i])],
                "health": round(float(state["crew.health"][i]), 4),
                "injury": round(float(state["crew.injury"][i]), 4),
                **{m: round(float(d[k]), 4) for k, m in enumerate(MECHANISMS)},
                "co2_symptom": CO2_SYMPTOMS[int(state["crew.co2_symptom"][i])],
            }
        return out

    def path_refusal(self, state: State, a: int, b: int) -> Optional[str]:
        """``None`` if open hatches join volumes ``a`` and ``b``, else why not (one line)."""
        if a == b:
            return None
        open_ = state["hatch.open"]
        comp = routes.components(self.topology, open_)
        if comp[a] == comp[b]:
            return None
        shut = [self.world.links[k].hatch for k in routes.closed_exits(self.topology, open_, a, comp)]
        return f"no path of open hatches; closed on the way out: {', '.join(shut) or 'none (no hatch leads on)'}"

    # ------------------------------------------------------------------ helpers

    def _person(self, target: str) -> Optional[int]:
        for i, (name, slug) in enumerate(zip(self.names, self.slugs)):
            if target == name or target == slug:
                return i
        return None

    def _exchange_air(self, state: State, loc, cabin_kg, body_kg) -> None:
        """Take O2 from and give CO2 and vapour to each person's volume (cabin_kg, n x 3)."""
        n = state["atm.moles"]
        per_volume = self._eye[loc].T @ (cabin_kg / _MOLAR_MASS)  # (volumes, 3) mol
        o2_have = n[:, O2]
        if (per_volume[:, 0] > o2_have).any():
            # Not enough O2 in some volume: its occupants share what is there, and make
            # CO2 in proportion (the respiratory quotient holds); vapour is unchanged.
            take = np.minimum(per_volume[:, 0], o2_have)
            share = np.divide(take, per_volume[:, 0], out=np.ones_like(take), where=per_volume[:, 0] > 0)
            body_kg = body_kg.copy()
            body_kg[:, :2] *= share[loc][:, None]
            per_volume[:, 1] *= share
            per_volume[:, 0] = take
        n[:, O2] -= per_volume[:, 0]
        n[:, CO2] += per_volume[:, 1]
        n[:, H2O] += per_volume[:, 2]
        mol = per_volume.sum(axis=0)
        state.add_total(gas_totals_key("out", "o2", "crew"), mol[0])
        state.add_total(gas_totals_key("in", "co2", "crew"), mol[1])
        state.add_total(gas_totals_key("in", "h2o", "crew"), mol[2])
        kg = body_kg.sum(axis=0)
        state.add_total("crew.o2_consumed_kg", kg[0])
        state.add_total("crew.co2_produced_kg", kg[1])
        state.add_total("crew.h2o_vapour_kg", kg[2])

    def _water(self, state: State, loc, drinking, dt_s: float) -> None:
        """Drink from, and pass urine to, the water of each person's segment."""
        seg = self.segment_of_volume[loc]
        people = np.bincount(seg, weights=drinking, minlength=len(SEGMENTS))
        store = state["water.store_kg"]
        drink = np.minimum(people * (DRINK_KG_PER_DAY * dt_s / 86_400.0), store)  # no more than there is
        store -= drink
        urine = people * (URINE_KG_PER_DAY * dt_s / 86_400.0)
        tank = state["water.urine_kg"]
        if tank.shape == urine.shape:
            tank += urine
        else:
            tank += urine.sum()
        state.add_total("crew.water_drunk_kg", drink.sum())
        state.add_total("crew.urine_kg", urine.sum())

    def _decay_factors(self, dt_s: float) -> tuple:
        f = self._decay.get(dt_s)
        if f is None:
            f = self._decay[dt_s] = (
                np.exp(-math.log(2.0) * dt_s / RECOVERY_HALF_LIFE_S),
                math.exp(-math.log(2.0) * dt_s / INJURY_HALF_LIFE_S),
            )
        return f

    def _harm(self, state: State, air, pressure, dt_s: float) -> None:
        """Advance the deficits, injury, consciousness and deaths over one frame."""
        alive = state["crew.alive"]
        on_eva = state["crew.on_eva"]
        d0 = state["crew.deficit"]
        decay = self._decay_factors(dt_s)[0]
        rate = np.empty_like(d0)
        rate[:, HYPOXIA] = np.interp(air[:, O2], HYPOXIA_PP_PA, HYPOXIA_RATE_PER_S, right=0.0)
        rate[:, HYPERCAPNIA] = np.interp(air[:, CO2], HYPERCAPNIA_PP_PA, HYPERCAPNIA_RATE_PER_S, left=0.0)
        rate[:, LOW_PRESSURE] = (pressure < ARMSTRONG_LIMIT_PA) / LOW_PRESSURE_INCAPACITATION_S
        # (each masked write only when its mask has someone in it: an empty one writes nothing)
        if count_nonzero(on_eva):
            rate[on_eva] = 0.0  # the suit's own air, while it lasts
        if "control.departed" in state:
            aboard_vehicle = state["control.departed"][state["crew.location"]]
            if count_nonzero(aboard_vehicle):
                rate[aboard_vehicle] = 0.0  # the vehicle carries them
        if count_nonzero(on_eva):
            spent = on_eva & (state["crew.suit_s"] <= 0.0)
            rate[spent, HYPOXIA] = SUIT_SPENT_HYPOXIA_PER_S
        d1 = np.where(rate > 0.0, d0 + rate * dt_s, d0 * decay)
        d1[d1 < DEFICIT_ZERO] = 0.0
        d1 = np.where(alive[:, None], d1, d0)
        self._wounds(state, alive, dt_s, d1)

        if max(d0.max(initial=0.0), d1.max(initial=0.0)) > 1.0:  # no hazard before incapacitation
            hazard = 0.5 * (death_hazard_per_s(d0) + death_hazard_per_s(d1))
            total = hazard.sum(axis=1) * alive
            for i in np.flatnonzero(total > 0.0):
                # Each person's own stream, drawn only under a hazard: nominal runs draw nothing.
                u = self._streams(f"crew.{self.names[i]}").random()
                if u < -math.expm1(-total[i] * dt_s):
                    self._die(state, int(i), MECHANISMS[int(np.argmax(hazard[i]))])
        self._update_consciousness(state)

    def _wounds(self, state: State, alive, dt_s: float, deficit=None) -> None:
        """Wounds heal (or bleed) over one frame, and the bled-out die; ``deficit``, when given,
        is written as the frame's deficits between the two, as :meth:`_harm` has it.

        On its own (``deficit`` None) this is the whole of :meth:`_harm` when no one breathes bad
        air, no suit is spent and no living person has a deficit (the crew kernel's answer 1):
        every deficit rate is then 0, so each living person's deficit stays 0 (0 x the recovery
        factor), no hazard is drawn, and nothing but the wounds changes.

        Its common case, with :meth:`_update_consciousness`, is copied, compiled, in
        :func:`issim.physics.frame_kernel.wounds_quiet`: change both (``tests/test_fused.py``)."""
        injury_decay = self._decay_factors(dt_s)[1]
        injury = state["crew.injury"]
        bleeding = state["crew.bleeding"] & alive
        healed = injury * injury_decay
        healed[healed < INJURY_ZERO] = 0.0
        anyone_bleeding = count_nonzero(bleeding)
        if anyone_bleeding:
            healed = np.where(bleeding, np.minimum(injury + BLEED_PER_S * dt_s, 1.0), healed)
        injury[:] = np.where(alive, healed, injury)
        if deficit is not None:
            state["crew.deficit"][:] = deficit
        if anyone_bleeding:
            for i in np.flatnonzero(bleeding & (injury >= 1.0)):
                self._die(state, int(i), "injury")

    def _update_consciousness(self, state: State) -> None:
        alive = state["crew.alive"]
        d = state["crew.deficit"]
        injury = state["crew.injury"]
        was = state["crew.conscious"]
        deficit = count_nonzero(d)
        if deficit:
            limit = np.where(was, 1.0, WAKE_BELOW)
            now = alive & (d < limit[:, None]).all(axis=1) & (injury < INJURY_INCAPACITATES)
        else:  # no deficit at all: below every limit (1, or WAKE_BELOW > 0), only the injury counts
            now = alive & (injury < INJURY_INCAPACITATES)
        for i in np.flatnonzero(now != was):
            i = int(i)
            if now[i]:
                state.record("crew", person=self.names[i], what="came round", module=self._where(state, i))
            elif alive[i]:
                causes = [MECHANISMS[k] for k in np.argsort(-d[i]) if d[i, k] >= 1.0]
                if injury[i] >= INJURY_INCAPACITATES:
                    causes.append("injury")
                cause = causes[0] if causes else "unknown"
                state.record("crew", person=self.names[i], what="incapacitated", cause=cause, module=self._where(state, i))
        was[:] = now
        # With no deficit, health() is exactly (1 - injury) x 1.0 for the living (its impairment is +0.0).
        state["crew.health"][:] = health(d, injury, alive) if deficit else np.where(alive, 1.0 - injury, 0.0)

    def _die(self, state: State, i: int, cause: str) -> None:
        state["crew.bleeding"][i] = False
        state["crew.alive"][i] = False
        state["crew.conscious"][i] = False
        state["crew.health"][i] = 0.0
        state.record("crew", person=self.names[i], what="died", cause=cause, module=self._where(state, i))

    def _injure(self, state: State, i: int, severity: float, bleeding: bool = False) -> Optional[str]:
        injury = state["crew.injury"]
        injury[i] = 1.0 - (1.0 - injury[i]) * (1.0 - severity)
        if bleeding and severity > 0.0:
            state["crew.bleeding"][i] = True
        if injury[i] >= 1.0:
            injury[i] = 1.0
            self._die(state, i, "injury")
        self._update_consciousness(state)
        return None

    def _where(self, state: State, i: int) -> str:
        return self.world.volumes[int(state["crew.location"][i])].id

    def _crosses_edge(self, t0: int, t1: int) -> bool:
        """Whether anyone's sleep starts or ends in ``(t0, t1]``."""
        first, last = t0 // 60_000 + 1, t1 // 60_000
        if last - first >= 1440:
            return True
        return any(self._edge[m % 1440] for m in range(first, last + 1))

    def _scheduled_moves(self, state: State, m0: int, m1: int) -> None:
        """At the edges of sleep, go to bed or to work if open hatches lead there."""
        asleep0 = self.schedule[m0] == SLEEP
        asleep1 = self.schedule[m1] == SLEEP
        loc = state["crew.location"]
        able = state["crew.alive"] & state["crew.conscious"] & ~state["crew.on_eva"]
        able &= ~self.vehicle[loc]  # aboard a vehicle (boarded, or left in it): off the station's schedule
        for i in np.flatnonzero((asleep0 != asleep1) & able):
            i = int(i)
            goal = int(self.bed[i] if asleep1[i] else self.work[i])
            if goal == loc[i]:
                continue
            frm, to = self.world.volumes[int(loc[i])].id, self.world.volumes[goal].id
            reason = self.path_refusal(state, int(loc[i]), goal)
            if reason is None:
                loc[i] = goal
                state.record("crew", person=self.names[i], what="moved", module=to, origin=frm, why="schedule")
            else:
                state.record("crew", person=self.names[i], what="stayed", module=frm, goal=to, reason=reason)


# The totals a frame of the bodies adds to, in the order the kernel returns them.
_TOTAL_KEYS = (gas_totals_key("out", "o2", "crew"), gas_totals_key("in", "co2", "crew"),
               gas_totals_key("in", "h2o", "crew"), "crew.o2_consumed_kg", "crew.co2_produced_kg",
               "crew.h2o_vapour_kg", "crew.water_drunk_kg", "crew.urine_kg")


def _minute(t_ms: int) -> int:
    return (t_ms // 60_000) % 1440
