"""Life support: oxygen made and stored, CO2 and humidity taken out, water recovered.

The machines, their places and figures are data (``data/eclss.toml``, every figure
cited or labelled an estimate). Each machine sits in one module, belongs to a segment
whose power bus runs it, and can be switched (``switch``, ``on=True|False``), broken
(``break``) and repaired (``repair``). A machine works only when it is switched on, not
broken and its segment's bus is up; its electrical load is ``ls.power_w`` (W).

Kinds of machine, and the model of each (rates per second, integrated over any frame):

- **O2 generators** (Elektron-VM, OGA) electrolyse water, ``2 H2O -> 2 H2 + O2`` (1.126 kg
  of water per kg of O2; the hydrogen is vented), into their module's air. In automatic
  mode a proportional controller follows the module's ppO2: below the target the rate
  rises linearly from the minimum (at the target) to the maximum (one proportional band
  below); the generator starts producing below the target and stops (standby) above the
  target plus a hysteresis. ``set_rate`` (``kg_per_day``: 0 for standby, or within the
  machine's range; ``"auto"`` to go back) fixes the rate. The OGA's rate is rounded to
  its 25 % steps. With its segment's water store empty a generator stops, and says so
  once in the event log; it resumes when there is water again.
- **CO2 removers** (CDRA x2, Vozdukh) take CO2 from the air passing through them:
  ``rate = efficiency x air flow x CO2 concentration`` (mol/s, the flow as volume at the
  nominal cabin density), integrated exactly over the frame as an exponential decay of
  the module's CO2, and capped at the beds' maximum. The CO2 is vented overboard.
- **Condensers** (CCAA x2, SKV) cool the air through a core to a dew point, so they take
  ``flow x (vapour concentration - saturation concentration at the dew point)``,
  integrated the same way and capped, into their segment's wastewater. The cabin settles
  at a relative humidity a little above that of the dew point, depending on the crew.
- **Water processors** move water between a segment's buffers each frame, up to their
  rate: the UPA distils urine into wastewater (87 % recovered, the rest is brine); the
  WPA (USOS) and SRV-K (ROS) turn wastewater (condensate, distillate) into potable store.
  The ROS has no urine processor (only an experiment, SRV-U-RS, and a planned SRV-UM are
  in the sheet): ROS urine accumulates in ``water.urine_kg``.
- **Pressure control** (PCA, on Quest) adds O2 from the Quest O2 tanks while Quest's
  ppO2 is low and N2 from the N2 tanks while its total pressure is low, each at most at
  the limiting flow, with start/stop hysteresis.

Besides the machines: gas tanks (Quest O2 and N2, Progress N2 and O2) that a ``release``
event (target tank id, ``kg``) opens by hand, the gas then flowing into the tank's
module or vehicle at the tank's release rate; oxygen candles (``candle``, target volume
id, ``count``) from a ROS stock, each releasing its O2 evenly over its burn time
(candles lit in one volume while others burn share one flame: the O2 is exact, the end
time approximate).

State (all under ``ls.`` and ``water.``; ``m`` machines, ``t`` tanks, ``v`` volumes):
``ls.on``, ``ls.broken``, ``ls.running`` (m,) bool; ``ls.power_w``,
``ls.rate_kg_per_day`` (m,) (O2 made, CO2 or vapour removed, water processed, gas added);
``ls.fixed``, ``ls.setpoint_kg_per_day``, ``ls.producing``, ``ls.dry`` (m,) for the
generators; ``ls.segment_power_w`` (2,); ``ls.pca_adding``, ``ls.pca_kg_per_day`` (2,)
for O2 and N2; ``ls.tank_kg``, ``ls.tank_pending_kg``, ``ls.tank_empty`` (t,);
``ls.candles_left`` (1,); ``ls.candle_o2_mol``, ``ls.candle_rate_mol_per_s`` (v,);
``water.store_kg``, ``water.urine_kg``, ``water.wastewater_kg`` (2,) per segment.

Balances: every mole added to or taken from ``atm.moles`` is added to the totals
``gas.in_mol.<species>.<process>`` / ``gas.out_mol...`` (process: the machine id without
a trailing number, ``cdra``, ``ccaa``; ``candle``; the tank id for a release). Water
entering or leaving the segments' water buffers is added to ``water.in_kg.<process>`` /
``water.out_kg.<process>`` (see :func:`water_totals_key`); the crew subsystem counts
what it drinks and passes as ``crew.water_drunk_kg`` and ``crew.urine_kg``.

Speed: every kind of machine is one pass of array arithmetic over all machines (their
parameters are full-length arrays, inert for the other kinds): about 35-45 µs a frame
(measured; up to ~70 µs while the PCA, a release and candles are all active, as those
are looked at only when they have something to do).

Left out: trace-contaminant control, the Sabatier, ACLS and 4BCO2, Nauka's second O2
generator, CDRA day/night cycling (860 W is its average), venting by the PCA.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..inputs import bundled_toml
from ..sim.bound import Bound
from ..sim.fastnp import count_nonzero
from ..sim.schema import Key, Schema
from ..sim.state import add_nonzero_totals
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel, Limits
from ..sim.world import SEGMENTS, World
from .gas import CO2, H2O, MOLAR_MASS_KG_PER_MOL, N2, O2, R_J_PER_MOL_K, SPECIES, gas_totals_key, saturation_pressure_pa

S_PER_DAY = 86_400.0
M_O2, M_N2, M_CO2, M_H2O = (float(m) for m in MOLAR_MASS_KG_PER_MOL)
WATER_KG_PER_KG_O2 = 2.0 * M_H2O / M_O2  # 2 H2O -> 2 H2 + O2: 1.126
KINDS = ("o2_generator", "co2_remover", "condenser", "water_processor", "pressure_control")
WATER_BUFFERS = ("store", "urine", "wastewater")
_EMPTY_KG = 1e-9


def water_totals_key(direction: str, process: str) -> str:
    """The running-total key for water (kg) entering (``in``) or leaving (``out``) the
    segments' water buffers (store, urine, wastewater): ``water.out_kg.elektron``."""
    if direction not in ("in", "out"):
        raise ValueError(f"bad water total direction {direction!r}; use 'in' or 'out'")
    return f"water.{direction}_kg.{process}"


# ---------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Machine:
    """One life-support machine (figures in SI; fields a kind does not use are zero)."""

    id: str
    name: str
    kind: str
    module: str
    segment: str
    power_w: float
    standby_power_w: float
    rate_min_kg_per_day: float = 0.0
    rate_max_kg_per_day: float = 0.0
    rate_step_kg_per_day: float = 0.0
    air_flow_kg_per_h: float = 0.0
    efficiency: float = 1.0
    dew_point_k: float = 0.0
    removal_max_kg_per_h: float = 0.0
    input: str = ""
    output: str = ""
    recovery: float = 1.0
    flow_max_kg_per_min: float = 0.0
    o2_start_pa: float = 0.0
    o2_stop_pa: float = 0.0
    n2_start_pa: float = 0.0
    n2_stop_pa: float = 0.0

    @property
    def process(self) -> str:
        """The name of its process in the gas and water totals: ``cdra-1`` -> ``cdra``."""
        return re.sub(r"-\d+$", "", self.id)


@dataclass(frozen=True)
class Tank:
    """Stored gas of one species that enters ``volume``'s air when released."""

    id: str
    name: str
    species: str
    volume: str
    segment: str
    capacity_kg: float
    release_kg_per_min: float


@dataclass(frozen=True)
class EclssConfig:
    machines: tuple[Machine, ...]
    tanks: tuple[Tank, ...]
    target_pp_o2_pa: float
    proportional_band_pa: float
    hysteresis_pa: float
    water_store_initial_kg: tuple[float, float]
    candle_stock: int
    candle_o2_kg: float
    candle_burn_s: float
    sources: dict = field(default_factory=dict)


_MACHINE_FIELDS = set(Machine.__dataclass_fields__)


def load_eclss_config(text: Optional[str] = None) -> EclssConfig:
    """Read ``data/eclss.toml`` (or the given TOML text) into an :class:`EclssConfig`.

    Raises ``ValueError`` naming the row and field of anything that does not fit.
    """
    raw = bundled_toml("eclss.toml") if text is None else tomllib.loads(text)
    machines = []
    for i, row in enumerate(raw.get("machine", [])):
        where = f"eclss.toml machine[{i}] ({row.get('id', '?')})"
        unknown = [k for k in row if k not in _MACHINE_FIELDS and not k.endswith(("_src", "_note"))]
        if unknown:
            raise ValueError(f"{where}: unknown field {unknown[0]!r}; fields are {', '.join(sorted(_MACHINE_FIELDS))}")
        missing = [k for k in ("id", "name", "kind", "module", "segment", "power_w", "standby_power_w") if k not in row]
        if missing:
            raise ValueError(f"{where}: missing field {missing[0]!r}")
        m = Machine(**{k: v for k, v in row.items() if k in _MACHINE_FIELDS})
        if m.kind not in KINDS:
            raise ValueError(f"{where}: kind {m.kind!r} is not one of {', '.join(KINDS)}")
        if m.segment not in SEGMENTS:
            raise ValueError(f"{where}: segment {m.segment!r} is not one of {', '.join(SEGMENTS)}")
        if m.kind == "water_processor" and (m.input not in WATER_BUFFERS or m.output not in WATER_BUFFERS):
            raise ValueError(f"{where}: input and output must be among {', '.join(WATER_BUFFERS)}")
        if m.kind == "o2_generator" and not 0 < m.rate_min_kg_per_day <= m.rate_max_kg_per_day:
            raise ValueError(f"{where}: needs 0 < rate_min_kg_per_day <= rate_max_kg_per_day")
        machines.append(m)
    ids = [m.id for m in machines]
    if len(set(ids)) != len(ids):
        raise ValueError("eclss.toml: two machines share an id")
    tanks = []
    for i, row in enumerate(raw.get("tank", [])):
        t = Tank(row["id"], row["name"], row["species"], row["volume"], row["segment"], float(row["capacity_kg"]),
                 float(row["release_kg_per_min"]))
        if t.species not in SPECIES:
            raise ValueError(f"eclss.toml tank[{i}] ({t.id}): species {t.species!r} is not one of {', '.join(SPECIES)}")
        tanks.append(t)
    ctl, water, candles = raw["o2_control"], raw["water"], raw["candles"]
    return EclssConfig(
        machines=tuple(machines),
        tanks=tuple(tanks),
        target_pp_o2_pa=float(ctl["target_pp_o2_pa"]),
        proportional_band_pa=float(ctl["proportional_band_pa"]),
        hysteresis_pa=float(ctl["hysteresis_pa"]),
        water_store_initial_kg=tuple(float(x) for x in water["store_initial_kg"]),
        candle_stock=int(candles["stock_initial"]),
        candle_o2_kg=float(candles["o2_per_candle_kg"]),
        candle_burn_s=float(candles["burn_s"]),
        sources=dict(raw.get("sources", {})),
    )


# ---------------------------------------------------------------------------- the subsystem


class LifeSupport(Subsystem):
    """The life-support machines, gas tanks, oxygen candles and water of both segments."""

    name = "lifesupport"
    events = ("switch", "break", "repair", "set_rate", "release", "candle")
    event_args = {"switch": ("on",), "set_rate": ("kg_per_day",), "release": ("kg",), "candle": ("count",)}

    def __init__(self, world: World, config: Optional[EclssConfig] = None):
        self.world = world
        self.config = cfg = config or load_eclss_config()
        index = world.index
        for m in cfg.machines:
            if m.module not in index:
                raise ValueError(f"life-support machine {m.id} sits in {m.module!r}, which this station does not have")
        self.machines = cfg.machines
        # Tanks in a vehicle that is not docked are left out of the run.
        self.tanks = tuple(t for t in cfg.tanks if t.volume in index)
        self.machine_index = {m.id: i for i, m in enumerate(self.machines)}
        self.tank_index = {t.id: i for i, t in enumerate(self.tanks)}
        self.n_volumes = len(world.volumes)
        self.volume_m3 = np.array([v.volume_m3 for v in world.volumes])
        self.inv_volume = 1.0 / self.volume_m3

        ms = self.machines
        nm = len(ms)
        kinds = [m.kind for m in ms]
        is_kind = {k: np.array([x == k for x in kinds]) for k in KINDS}
        self.mod = np.array([index[m.module] for m in ms], dtype=np.int64)
        self.seg = np.array([SEGMENTS.index(m.segment) for m in ms], dtype=np.int64)
        # The species each machine works on in its module's air (O2 for the others, unused).
        self.species = np.array([CO2 if k == "co2_remover" else H2O if k == "condenser" else O2 for k in kinds],
                                dtype=np.int64)
        self.flat = self.mod * len(SPECIES) + self.species  # index into atm.moles.reshape(-1)
        self.r_over_v = R_J_PER_MOL_K / self.volume_m3[self.mod]
        self.molar_mass = MOLAR_MASS_KG_PER_MOL[self.species]

        # All per-machine parameters are full-length arrays, zero (or inert) for machines
        # of other kinds, so that one pass of array arithmetic serves every machine.
        def per_machine(kind, value, default=0.0):
            return np.array([value(m) if m.kind == kind else default for m in ms], dtype=float)

        # O2 generators. Non-generators get thresholds of -inf: they never "produce".
        self.is_gen = is_kind["o2_generator"]
        self.g_min = per_machine("o2_generator", lambda m: m.rate_min_kg_per_day)
        self.g_span = per_machine("o2_generator", lambda m: m.rate_max_kg_per_day - m.rate_min_kg_per_day)
        self.g_step = per_machine("o2_generator", lambda m: m.rate_step_kg_per_day)
        self.g_stepped = self.g_step > 0
        self.g_inv_step = 1.0 / np.where(self.g_stepped, self.g_step, 1.0)
        self.o2_target_pa = np.where(self.is_gen, cfg.target_pp_o2_pa, -np.inf)
        self.o2_stop_pa = np.where(self.is_gen, cfg.target_pp_o2_pa + cfg.hysteresis_pa, -np.inf)
        self.inv_band_per_pa = 1.0 / cfg.proportional_band_pa

        # CO2 removers and condensers: a rate constant k (1/s) on their species, a floor
        # (Pa: the saturation pressure at a condenser's dew point) and a cap (mol/s).
        cabin = world.cabin
        pp = np.zeros(len(SPECIES))
        pp[O2], pp[CO2] = cabin.pp_o2_pa, cabin.pp_co2_pa
        pp[H2O] = cabin.relative_humidity * float(saturation_pressure_pa(cabin.temperature_k))
        pp[N2] = cabin.total_pa - pp.sum()
        self.nominal_air_density_kg_m3 = float(pp @ MOLAR_MASS_KG_PER_MOL / (R_J_PER_MOL_K * cabin.temperature_k))
        removes = is_kind["co2_remover"] | is_kind["condenser"]
        flow_m3_s = np.array([m.air_flow_kg_per_h for m in ms]) / 3600.0 / self.nominal_air_density_kg_m3
        efficiency = np.array([m.efficiency for m in ms])
        self.k_per_s = np.where(removes, efficiency * flow_m3_s / self.volume_m3[self.mod], 0.0)
        self.floor_pa = per_machine("condenser", lambda m: float(saturation_pressure_pa(m.dew_point_k)))
        cap_kg_per_h = np.array([m.removal_max_kg_per_h for m in ms])
        self.neg_cap_mol_per_s = np.where(removes, -cap_kg_per_h / 3600.0 / self.molar_mass, 0.0)
        self.condensate_kg_per_mol = np.where(is_kind["condenser"], M_H2O, 0.0)
        # Removers of one species in one module share its air: group them (rarely needed).
        pairs = [(int(a), int(b)) if r else ("own", j)
                 for j, (a, b, r) in enumerate(zip(self.mod, self.species, removes))]
        groups = {p: g for g, p in enumerate(dict.fromkeys(pairs))}
        self.r_group = np.array([groups[p] for p in pairs], dtype=np.int64)
        self.r_n_groups = len(groups)
        self.r_shared = self.r_n_groups < nm

        # Water processors: the buffers (store, urine, wastewater) of both segments, flattened
        # as buffer * 2 + segment; machines of other kinds process nothing from buffer 0.
        self.proc = np.flatnonzero(is_kind["water_processor"])
        nseg = len(SEGMENTS)
        self.p_in = np.array([WATER_BUFFERS.index(m.input) * nseg + s if m.kind == "water_processor" else 0
                              for m, s in zip(ms, self.seg)], dtype=np.int64)
        self.p_out = np.array([WATER_BUFFERS.index(m.output) * nseg + s if m.kind == "water_processor" else 0
                               for m, s in zip(ms, self.seg)], dtype=np.int64)
        self.p_max_kg_per_day = per_machine("water_processor", lambda m: m.rate_max_kg_per_day)
        self.p_recovery = per_machine("water_processor", lambda m: m.recovery)
        drawn = [int(self.p_in[i]) for i in self.proc]
        if len(set(drawn)) != len(drawn):
            raise ValueError("eclss.toml: two water processors draw on the same buffer of one segment; merge them")

        # Power: standby + (full - standby) x load, the load being the rate over the full
        # rate (generators, processors); machines without a standby draw full power.
        self.full_w = np.array([m.power_w for m in ms])
        self.standby_w = np.array([m.standby_power_w for m in ms])
        self.span_w = self.full_w - self.standby_w
        full_rate = per_machine("o2_generator", lambda m: m.rate_max_kg_per_day) + self.p_max_kg_per_day
        self.inv_full_rate = np.where(full_rate > 0, 1.0 / np.where(full_rate > 0, full_rate, 1.0), 0.0)

        # Pressure control (at most one PCA), drawing on the tanks in its module.
        pcas = np.flatnonzero(is_kind["pressure_control"])
        if len(pcas) > 1:
            raise ValueError("eclss.toml: more than one pressure_control machine")
        self.pca = int(pcas[0]) if len(pcas) else -1
        self._pca_keys: tuple = ()
        if self.pca >= 0:
            pm = ms[self.pca]
            tanks_here = {t.species: i for i, t in enumerate(self.tanks) if t.volume == pm.module}
            if "o2" not in tanks_here or "n2" not in tanks_here:
                raise ValueError(f"the PCA in {pm.module} needs an o2 and an n2 tank in {pm.module}")
            self.pca_vol = index[pm.module]
            self.pca_r_over_v = R_J_PER_MOL_K / float(self.volume_m3[self.pca_vol])
            self.pca_tanks = (tanks_here["o2"], tanks_here["n2"])
            self.pca_o2 = (pm.o2_start_pa, pm.o2_stop_pa)
            self.pca_n2 = (pm.n2_start_pa, pm.n2_stop_pa)
            self.pca_flow_kg_per_s = pm.flow_max_kg_per_min / 60.0
            self._pca_keys = (gas_totals_key("in", "o2", pm.process), gas_totals_key("in", "n2", pm.process))

        # Tanks
        self.t_vol = np.array([index[t.volume] for t in self.tanks], dtype=np.int64)
        self.t_species = np.array([SPECIES.index(t.species) for t in self.tanks], dtype=np.int64)
        self.t_flat = self.t_vol * len(SPECIES) + self.t_species
        self.t_molar_mass = MOLAR_MASS_KG_PER_MOL[self.t_species]
        self.t_release_kg_per_s = np.array([t.release_kg_per_min for t in self.tanks]) / 60.0
        self.t_capacity_kg = np.array([t.capacity_kg for t in self.tanks])
        self._tank_keys = [gas_totals_key("in", t.species, t.id) for t in self.tanks]

        self.candle_o2_mol = cfg.candle_o2_kg / M_O2
        self._candle_key = gas_totals_key("in", "o2", "candle")

        # The totals each machine adds to, as (machine index, key) pairs.
        self._gas_keys, self._water_keys = [], []
        for i, m in enumerate(ms):
            if m.kind == "o2_generator":
                self._gas_keys.append((i, gas_totals_key("in", "o2", m.process)))
                self._water_keys.append((i, water_totals_key("out", m.process)))
            elif m.kind in ("co2_remover", "condenser"):
                self._gas_keys.append((i, gas_totals_key("out", SPECIES[self.species[i]], m.process)))
                if m.kind == "condenser":
                    self._water_keys.append((i, water_totals_key("in", m.process)))
            elif m.kind == "water_processor" and m.recovery < 1.0:
                self._water_keys.append((i, water_totals_key("out", m.process)))  # brine
        self._kernel = None  # bound at the first frame (importing numba then, not at build)

    def _bind_kernel(self) -> None:
        """The compiled frame and its parameters packed once (:func:`~issim.physics.kernel_args.pack_machines`)."""
        from ..sim.kernels import kernel
        from .kernel_args import out_size, pack_machines

        pca = self.pca >= 0
        self._packed = pack_machines(
            r_over_v=self.r_over_v, p_max=self.p_max_kg_per_day, p_recovery=self.p_recovery,
            o2_target=self.o2_target_pa, o2_stop=self.o2_stop_pa, g_min=self.g_min, g_span=self.g_span,
            g_step=self.g_step, g_inv_step=self.g_inv_step, floor_pa=self.floor_pa, k_per_s=self.k_per_s,
            neg_cap=self.neg_cap_mol_per_s, condensate_per_mol=self.condensate_kg_per_mol,
            molar_mass=self.molar_mass, standby_w=self.standby_w, span_w=self.span_w,
            inv_full_rate=self.inv_full_rate, seg=self.seg, mod=self.mod, flat=self.flat, p_in=self.p_in,
            p_out=self.p_out, r_group=self.r_group, g_stepped=self.g_stepped, is_gen=self.is_gen,
            empty_kg=_EMPTY_KG, water_kg_per_kg_o2=WATER_KG_PER_KG_O2, o2_mol_per_kg_water=0.5 / M_H2O,
            inv_band=self.inv_band_per_pa, r_n_groups=self.r_n_groups, r_shared=self.r_shared,
            pca=self.pca, pca_vol=self.pca_vol if pca else 0, pca_r_over_v=self.pca_r_over_v if pca else 0.0,
            pca_o2_start=self.pca_o2[0] if pca else 0.0, pca_o2_stop=self.pca_o2[1] if pca else 0.0,
            pca_n2_start=self.pca_n2[0] if pca else 0.0, pca_n2_stop=self.pca_n2[1] if pca else 0.0,
            pca_tank_o2=self.pca_tanks[0] if pca else 0, pca_tank_n2=self.pca_tanks[1] if pca else 0,
            pca_flow_kg_per_s=self.pca_flow_kg_per_s if pca else 0.0, m_o2=M_O2, m_n2=M_N2, s_per_day=S_PER_DAY)
        self._out = np.zeros(out_size(len(self.machines)))
        nm = len(self.machines)  # out: gas mol, water kg per machine, then the pressure control's O2 and N2 mol
        self._out_keys = (self._gas_keys + [(nm + i, key) for i, key in self._water_keys]
                          + [(2 * nm + j, key) for j, key in enumerate(self._pca_keys)])
        self._kernel = Bound(kernel("machines_frame"), self._kernel_arrays)  # the state's arrays kept while the same

    def _kernel_arrays(self, a) -> tuple:
        """The kernel's arguments but the frame's length, from ``state.arrays`` (see :class:`Bound`)."""
        n = a["atm.moles"]
        if not n.flags.c_contiguous:  # (the kernel reads it flat: (volume, species) -> volume * 4 + species)
            n = a["atm.moles"] = np.ascontiguousarray(n)
        return (n.reshape(-1), a["atm.temperature_k"], a["ls.on"], a["ls.broken"], a["power.bus"], a["ls.producing"],
                a["ls.fixed"], a["ls.setpoint_kg_per_day"], a["ls.dry"], a["ls.running"], a["water.store_kg"],
                a["water.urine_kg"], a["water.wastewater_kg"], a["ls.rate_kg_per_day"], a["ls.power_w"],
                a["ls.segment_power_w"], a["ls.tank_kg"], a["ls.pca_adding"], a["ls.pca_kg_per_day"],
                a["ls.tank_pending_kg"], a["ls.candle_o2_mol"], *self._packed, self._out)

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        m, t, s, v = ("machines",), ("gas_tanks",), ("segments",), ("volumes",)
        return Schema(
            owns=(
                Key("ls.on", m, "bool", "1", "each machine switched on"),
                Key("ls.broken", m, "bool", "1", "each machine broken"),
                Key("ls.running", m, "bool", "1", "each machine running (on, whole, powered)"),
                Key("ls.power_w", m, "float64", "W", "power each machine draws"),
                Key("ls.rate_kg_per_day", m, "float64", "kg/d", "what each machine moves"),
                Key("ls.fixed", m, "bool", "1", "each machine's rate set by command"),
                Key("ls.setpoint_kg_per_day", m, "float64", "kg/d", "each machine's commanded rate"),
                Key("ls.producing", m, "bool", "1", "each machine producing"),
                Key("ls.dry", m, "bool", "1", "each machine starved of water"),
                Key("ls.segment_power_w", s, "float64", "W", "life support load on each segment"),
                Key("ls.pca_adding", (2,), "bool", "1", "the pressure control assembly adding O2, N2"),
                Key("ls.pca_kg_per_day", (2,), "float64", "kg/d", "what the PCA adds: O2, N2"),
                Key("ls.tank_kg", t, "float64", "kg", "gas left in each high-pressure tank"),
                Key("ls.tank_pending_kg", t, "float64", "kg", "gas released from each tank, still to flow"),
                Key("ls.tank_empty", t, "bool", "1", "each tank empty"),
                Key("ls.candles_left", (1,), "int64", "1", "oxygen candles in stock"),
                Key("ls.candle_o2_mol", v, "float64", "mol", "O2 still to come from candles burning in each volume"),
                Key("ls.candle_rate_mol_per_s", v, "float64", "mol/s", "rate of the candles burning in each volume"),
                Key("water.store_kg", s, "float64", "kg", "potable water in each segment"),
                Key("water.urine_kg", s, "float64", "kg", "urine waiting in each segment"),
                Key("water.wastewater_kg", s, "float64", "kg", "wastewater waiting in each segment"),
            ),
            reads=("power.bus", "atm.temperature_k"),
            writes=("atm.moles",),  # the machines, tanks and candles add and remove gas
            dims={"machines": len(self.machines), "gas_tanks": len(self.tanks), "segments": len(SEGMENTS),
                  "volumes": self.n_volumes},
        )

    def reset(self, state, world, streams) -> None:
        m, t = len(self.machines), len(self.tanks)
        state["ls.on"] = np.ones(m, dtype=bool)
        state["ls.broken"] = np.zeros(m, dtype=bool)
        state["ls.running"] = np.zeros(m, dtype=bool)
        state["ls.power_w"] = np.zeros(m)
        state["ls.rate_kg_per_day"] = np.zeros(m)
        state["ls.fixed"] = np.zeros(m, dtype=bool)
        state["ls.setpoint_kg_per_day"] = np.zeros(m)
        state["ls.producing"] = np.zeros(m, dtype=bool)
        state["ls.dry"] = np.zeros(m, dtype=bool)
        state["ls.segment_power_w"] = np.zeros(len(SEGMENTS))
        state["ls.pca_adding"] = np.zeros(2, dtype=bool)
        state["ls.pca_kg_per_day"] = np.zeros(2)
        state["ls.tank_kg"] = self.t_capacity_kg.copy()
        state["ls.tank_pending_kg"] = np.zeros(t)
        state["ls.tank_empty"] = np.zeros(t, dtype=bool)
        state["ls.candles_left"] = np.array([self.config.candle_stock], dtype=np.int64)
        state["ls.candle_o2_mol"] = np.zeros(self.n_volumes)
        state["ls.candle_rate_mol_per_s"] = np.zeros(self.n_volumes)
        state["water.store_kg"] = np.array(self.config.water_store_initial_kg, dtype=float)
        state["water.urine_kg"] = np.zeros(len(SEGMENTS))
        state["water.wastewater_kg"] = np.zeros(len(SEGMENTS))

    def update(self, state, env, dt_s: float) -> None:
        if self._kernel is None:
            self._bind_kernel()
        self._settle(state, self._kernel(state.arrays, float(dt_s)), dt_s)

    def _settle(self, state, code: int, dt_s: float) -> None:
        """After the compiled frame (here or in :mod:`issim.physics.frame`): the log, the
        totals and the tanks and candles, as the kernel's ``code`` says."""
        a = state.arrays
        out = self._out
        nm = len(self.machines)
        if code & 1:  # (ls_kernel.DRY_CHANGED: out's last part holds the flags before)
            self._log_dry(state, out[2 * nm + 2:] != 0.0, a["ls.dry"])
        # the machines' totals, and the pressure control's when it drew (ls_kernel.PCA_DREW; else its two are 0)
        add_nonzero_totals(state.totals, self._out_keys, out.tolist())
        if code & 14:  # (PCA_DREW, RELEASING or CANDLES: else _tanks_and_candles has nothing to do)
            self._tanks_and_candles(state, a["atm.moles"], a["ls.tank_kg"], bool(code & 2), dt_s)

    def _gas_stores(self, state, n, rate, powered_pca, dt_s: float) -> None:
        """The tanks (the PCA's and released ones) and candles: rare, and they write the log."""
        tank = state.arrays["ls.tank_kg"]
        tanks_drawn = False
        if self.pca >= 0:
            tanks_drawn = self._pressure_control(state, n, tank, powered_pca, rate, dt_s)
        self._tanks_and_candles(state, n, tank, tanks_drawn, dt_s)

    def _tanks_and_candles(self, state, n, tank, tanks_drawn: bool, dt_s: float) -> None:
        """After the pressure control: released gas flowing, tanks running empty, candles."""
        a = state.arrays
        moles = n.reshape(-1)
        pending = a["ls.tank_pending_kg"]
        if count_nonzero(pending):
            self._release_flow(state, moles, tank, pending, dt_s)
            tanks_drawn = True
        if tanks_drawn:
            empty = a["ls.tank_empty"]
            empty_now = tank <= _EMPTY_KG
            for i in np.flatnonzero(empty_now & ~empty):
                state.record("tank_empty", tank=self.tanks[int(i)].id)
            empty[...] = empty_now  # (in place: the state's arrays stay bound, issim.sim.bound)
        left = a["ls.candle_o2_mol"]
        if count_nonzero(left):
            self._burn_candles(state, n, left, a["ls.candle_rate_mol_per_s"], dt_s)

    def update_reference(self, state, env, dt_s: float) -> None:
        """The machines' frame in numpy, as the model reads: the compiled kernel
        (:mod:`issim.physics.ls_kernel`) must agree with it."""
        a = state.arrays
        n = a["atm.moles"]
        if not n.flags.c_contiguous:
            n = a["atm.moles"] = np.ascontiguousarray(n)
        moles = n.reshape(-1)  # a view: (volume, species) -> volume * 4 + species
        powered = a["ls.on"] & ~a["ls.broken"] & a["power.bus"][self.seg]
        x = moles[self.flat]  # mol of each machine's species in its module
        pa_per_mol = a["atm.temperature_k"][self.mod] * self.r_over_v
        pp = x * pa_per_mol
        days = dt_s / S_PER_DAY
        store, urine, waste = a["water.store_kg"], a["water.urine_kg"], a["water.wastewater_kg"]

        # Water processors first, so that recovered water is there for the generators.
        buf = np.concatenate((store, urine, waste))
        done = np.minimum(np.maximum(buf[self.p_in], 0.0), self.p_max_kg_per_day * days) * powered
        kept = done * self.p_recovery
        buf += np.bincount(self.p_out, kept, minlength=buf.size) - np.bincount(self.p_in, done, minlength=buf.size)
        store[:], urine[:], waste[:] = buf[0:2], buf[2:4], buf[4:6]

        # O2 generators: proportional control on the module's ppO2, with hysteresis.
        producing = np.where(a["ls.producing"], pp < self.o2_stop_pa, pp < self.o2_target_pa)
        a["ls.producing"] = producing
        u = np.minimum(np.maximum((self.o2_target_pa - pp) * self.inv_band_per_pa, 0.0), 1.0)
        want = (self.g_min + u * self.g_span) * producing
        want = np.where(a["ls.fixed"], a["ls.setpoint_kg_per_day"], want)
        want = np.where(self.g_stepped, np.rint(want * self.g_inv_step) * self.g_step, want)
        water = want * powered * (WATER_KG_PER_KG_O2 * days)  # kg this frame
        demand = np.bincount(self.seg, water, minlength=2)
        (d0, d1), (s0, s1) = demand.tolist(), store.tolist()
        if d0 <= max(s0, 0.0) and d1 <= max(s1, 0.0):
            used = water
            store -= demand
        else:  # a segment runs out: its generators share what is left
            share = np.array([min(1.0, max(s, 0.0) / d) if d > 0 else 1.0 for s, d in ((s0, d0), (s1, d1))])
            used = water * share[self.seg]
            store -= np.bincount(self.seg, used, minlength=2)
        o2 = used * (0.5 / M_H2O)  # 2 H2O -> 2 H2 + O2
        dry = a["ls.dry"]
        s0, s1 = store.tolist()
        if s0 <= _EMPTY_KG or s1 <= _EMPTY_KG or count_nonzero(dry):
            dry_now = powered & self.is_gen & (store[self.seg] <= _EMPTY_KG)
            if count_nonzero(dry_now ^ dry):
                self._log_dry(state, dry, dry_now)
            a["ls.dry"] = dry_now
            a["ls.running"] = powered & ~dry_now
        else:
            a["ls.running"] = powered

        # CO2 removers and condensers: exact exponential approach to the floor, capped.
        excess = np.maximum(x - self.floor_pa / pa_per_mol, 0.0)
        k = self.k_per_s * powered
        if self.r_shared:
            k_air = np.bincount(self.r_group, k, minlength=self.r_n_groups)[self.r_group]
            taken = np.expm1(k_air * -dt_s) * (k / np.where(k_air > 0, k_air, 1.0))
        else:
            taken = np.expm1(k * -dt_s)
        removed = np.maximum(excess * taken, self.neg_cap_mol_per_s * dt_s)  # <= 0
        moles += np.bincount(self.flat, o2 + removed, minlength=moles.size)
        condensate = removed * -self.condensate_kg_per_mol
        waste += np.bincount(self.seg, condensate, minlength=2)

        # Rates, loads and totals.
        gas = o2 - removed  # mol made or taken
        rate = (gas * self.molar_mass + done) * (1.0 / days)
        power = (self.standby_w + self.span_w * np.minimum(rate * self.inv_full_rate, 1.0)) * powered
        a["ls.rate_kg_per_day"] = rate
        a["ls.power_w"] = power
        a["ls.segment_power_w"] = np.bincount(self.seg, power, minlength=2)
        add_nonzero_totals(state.totals, self._gas_keys, gas.tolist())
        add_nonzero_totals(state.totals, self._water_keys, (used + condensate + (done - kept)).tolist())

        self._gas_stores(state, n, rate, bool(powered[self.pca]) if self.pca >= 0 else None, dt_s)

    def _pressure_control(self, state, n, tank, powered: bool, rate, dt_s: float) -> bool:
        """Add O2 and N2 from the PCA's tanks to its module's air; True if it did.

        One device: plain float arithmetic is cheaper here than arrays.
        """
        a = state.arrays
        q = self.pca_vol
        n_o2, n_n2, n_co2, n_h2o = n[q].tolist()
        pa_per_mol = float(a["atm.temperature_k"][q]) * self.pca_r_over_v
        pp_o2 = n_o2 * pa_per_mol
        p_total = (n_o2 + n_n2 + n_co2 + n_h2o) * pa_per_mol
        adding = a["ls.pca_adding"]
        was_o2, was_n2 = adding.tolist()
        add_o2 = powered and (pp_o2 < (self.pca_o2[1] if was_o2 else self.pca_o2[0]))
        add_n2 = powered and (p_total < (self.pca_n2[1] if was_n2 else self.pca_n2[0]))
        if add_o2 != was_o2 or add_n2 != was_n2:
            adding[0], adding[1] = add_o2, add_n2
        kg_per_day = a["ls.pca_kg_per_day"]
        if not (add_o2 or add_n2):
            if rate[self.pca] or kg_per_day[0] or kg_per_day[1]:
                rate[self.pca] = kg_per_day[0] = kg_per_day[1] = 0.0
            return False
        flow_kg = self.pca_flow_kg_per_s * dt_s
        added = []
        for on, species, molar_mass, tank_i, stop_pa, now_pa in (
            (add_o2, O2, M_O2, self.pca_tanks[0], self.pca_o2[1], pp_o2),
            (add_n2, N2, M_N2, self.pca_tanks[1], self.pca_n2[1], p_total),
        ):
            mol = 0.0
            if on:
                need = max(stop_pa - now_pa, 0.0) / pa_per_mol
                mol = min(need, min(flow_kg, max(float(tank[tank_i]), 0.0)) / molar_mass)
                n[q, species] += mol
                tank[tank_i] -= mol * molar_mass
            added.append(mol)
        add_nonzero_totals(state.totals, enumerate(self._pca_keys), added)
        per_day = S_PER_DAY / dt_s
        kg_per_day[0], kg_per_day[1] = added[0] * M_O2 * per_day, added[1] * M_N2 * per_day
        rate[self.pca] = kg_per_day[0] + kg_per_day[1]
        return True

    def _release_flow(self, state, moles, tank, pending, dt_s: float) -> None:
        """Let gas asked for by ``release`` flow from the tanks into their volumes' air."""
        out = np.minimum(np.minimum(pending, self.t_release_kg_per_s * dt_s), np.maximum(tank, 0.0))
        tank -= out
        pending -= out
        pending[tank <= _EMPTY_KG] = 0.0
        mol = out / self.t_molar_mass
        np.add.at(moles, self.t_flat, mol)
        self._add_totals(state, self._tank_keys, mol)

    def _burn_candles(self, state, n, left, flame, dt_s: float) -> None:
        """Release the O2 of burning candles, evenly over their burn time."""
        out = np.minimum(flame * dt_s, left)
        left -= out
        flame[left <= 0.0] = 0.0
        n[:, O2] += out
        state.add_total(self._candle_key, float(out.sum()))

    # ------------------------------------------------------------------ events

    def validate(self, event) -> Optional[str]:
        """Whether an event is well formed (target exists, arguments named and typed)."""
        kind = event.kind
        if kind == "candle":
            if event.target not in self.world.index:
                return f"no module or vehicle {event.target!r} to light a candle in"
            count = event.arg("count", 1)
            if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
                return f"candle needs args.count, a whole number of candles of at least 1, got {count!r}"
            return None
        if kind == "release":
            if event.target not in self.tank_index:
                return f"no gas tank {event.target!r} aboard; tanks are {', '.join(self.tank_index) or 'none'}"
            kg = event.arg("kg")
            if isinstance(kg, bool) or not isinstance(kg, (int, float)) or not kg > 0:
                return f"release needs args.kg, a positive mass in kg, got {kg!r}"
            return None
        i = self.machine_index.get(event.target)
        if i is None:
            return f"no life-support machine {event.target!r}; machines are {', '.join(self.machine_index)}"
        m = self.machines[i]
        if kind == "switch":
            on = event.arg("on")
            if not isinstance(on, (bool, np.bool_)):
                return f"switch {m.id} needs args.on, true or false, got {on!r}"
        elif kind == "set_rate":
            if m.kind != "o2_generator":
                gens = ", ".join(g.id for g in self.machines if g.kind == "o2_generator")
                return f"{m.name} has no O2 rate to set; O2 generators are {gens}"
            value = event.arg("kg_per_day", "auto")
            if value == "auto":
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"set_rate needs args.kg_per_day, a number or 'auto', got {value!r}"
            lo, hi = m.rate_min_kg_per_day, m.rate_max_kg_per_day
            if value != 0 and not (lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9)):
                return f"{m.name} makes {lo:g}-{hi:g} kg O2/day (or 0 for standby); {value:g} was asked"
        elif kind not in ("break", "repair"):
            return f"{self.name} does not handle {kind!r}"
        return None

    def handle(self, state, event) -> Optional[str]:
        problem = self.validate(event)
        if problem:
            return problem
        kind = event.kind
        if kind == "candle":
            count = int(event.arg("count", 1))
            stock = state["ls.candles_left"]
            if stock[0] < count:
                if stock[0] == 0:
                    return "no oxygen candles left"
                return f"only {int(stock[0])} oxygen candles left; {count} asked"
            stock[0] -= count
            v = self.world.index[event.target]
            state["ls.candle_o2_mol"][v] += count * self.candle_o2_mol
            state["ls.candle_rate_mol_per_s"][v] += count * self.candle_o2_mol / self.config.candle_burn_s
            return None
        if kind == "release":
            i = self.tank_index[event.target]
            kg = float(event.arg("kg"))
            left = float(state["ls.tank_kg"][i] - state["ls.tank_pending_kg"][i])
            if kg > left + _EMPTY_KG:
                return f"{self.tanks[i].name} holds {left:.2f} kg not already being released; {kg:g} kg was asked"
            state["ls.tank_pending_kg"][i] += min(kg, left)
            return None
        i = self.machine_index[event.target]
        m = self.machines[i]
        if kind == "switch":
            state["ls.on"][i] = bool(event.arg("on"))
        elif kind == "break":
            if state["ls.broken"][i]:
                return f"{m.name} is already broken"
            state["ls.broken"][i] = True
        elif kind == "repair":
            if not state["ls.broken"][i]:
                return f"{m.name} is not broken"
            state["ls.broken"][i] = False
        elif kind == "set_rate":
            value = event.arg("kg_per_day", "auto")
            state["ls.fixed"][i] = value != "auto"
            if value != "auto":
                state["ls.setpoint_kg_per_day"][i] = float(value)
        return None

    # ------------------------------------------------------------------ helpers

    def _log_dry(self, state, before, now) -> None:
        for i in np.flatnonzero(before != now):
            m = self.machines[int(i)]
            if now[i]:
                state.record("machine_stopped", machine=m.id, reason=f"the {m.segment} water store is empty")
            else:
                state.record("machine_resumed", machine=m.id, reason=f"the {m.segment} water store has water again")

    @staticmethod
    def _add_totals(state, keys, amounts) -> None:
        for key, amount in zip(keys, amounts.tolist()):
            if amount:
                state.add_total(key, amount)

    def channels(self) -> list[Channel]:
        out = []
        rate_channel = {
            "o2_generator": ("o2_rate_kg_per_day", "O2 production"),
            "co2_remover": ("co2_removal_kg_per_day", "CO2 removal"),
            "condenser": ("h2o_removal_kg_per_day", "water vapour removal"),
            "water_processor": ("water_kg_per_day", "water processed"),
        }
        for i, m in enumerate(self.machines):
            out += [
                Channel(f"ls.{m.id}.on", f"{m.name} switched on", "1", "ls.on", (i,)),
                Channel(f"ls.{m.id}.broken", f"{m.name} broken", "1", "ls.broken", (i,)),
                Channel(f"ls.{m.id}.running", f"{m.name} running", "1", "ls.running", (i,)),
                Channel(f"ls.{m.id}.power_w", f"{m.name} electrical load", "W", "ls.power_w", (i,),
                        source="eclss.toml power_src"),
            ]
            if m.kind in rate_channel:
                key, what = rate_channel[m.kind]
                out.append(Channel(f"ls.{m.id}.{key}", f"{m.name} {what}", "kg/d", "ls.rate_kg_per_day", (i,),
                                   source="eclss.toml rate_src / flow_src"))
            if m.kind == "pressure_control":
                for j, s in enumerate(("o2", "n2")):
                    out.append(Channel(f"ls.{m.id}.{s}_kg_per_day", f"{m.name} {s.upper()} added", "kg/d",
                                       "ls.pca_kg_per_day", (j,), source="eclss.toml flow_src"))
        for s, seg in enumerate(SEGMENTS):
            out += [
                Channel(f"ls.{seg}.power_w", f"{seg} life-support electrical load", "W", "ls.segment_power_w", (s,)),
                Channel(f"water.{seg}.store_kg", f"{seg} potable water store", "kg", "water.store_kg", (s,),
                        Limits(warn_low=200.0, danger_low=50.0),
                        "sheet §4a (~1,000 L per segment); limits are estimates (a few crew-weeks, days)"),
                Channel(f"water.{seg}.urine_kg", f"{seg} urine awaiting processing", "kg", "water.urine_kg", (s,)),
                Channel(f"water.{seg}.wastewater_kg", f"{seg} condensate and distillate awaiting processing", "kg",
                        "water.wastewater_kg", (s,)),
            ]
        for i, t in enumerate(self.tanks):
            out.append(Channel(f"ls.tank.{t.id}.mass_kg", f"{t.name} mass", "kg", "ls.tank_kg", (i,),
                               Limits(warn_low=0.2 * t.capacity_kg, danger_low=0.05 * t.capacity_kg),
                               "eclss.toml capacity_src; limits are estimates (20 % and 5 % of capacity)"))
        out.append(Channel("ls.candles.stock", "oxygen candles left (ROS)", "1", "ls.candles_left", (0,),
                           source="eclss.toml stock_src (estimate)"))
        return out
