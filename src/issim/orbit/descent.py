"""A Soyuz MS departure: undocking, the deorbit burn, entry, the parachute and the landing.

>>> from issim import orbit
>>> undock = orbit.parse_iso("2024-09-23T08:34:30Z")   # Soyuz MS-25's undock command
>>> d = plan_descent(orbit.elements_for(undock), undock)
>>> d.place, d.landing_utc.strftime("%H:%M")
('in Kazakhstan', '11:58')

The timeline is the reference sheet's (Addendum §4, the CSA's MS-11 timeline): the Soyuz
separates 1.5 min after the undock command, fires its engine retrograde 2 h 29.5 min
later for 4 min 41 s and 128 m/s, drops its orbital and instrument modules at 139.9 km,
reaches the entry interface at 99.7 km, opens its parachutes at 10.8 km and lands at
7.2 m/s. Everything between separation and the parachute is integrated here; see
``docs/descent.md`` for every figure's source.

The model:

- **Initial state**: the station's SGP4 state (TEME) at separation. The separation
  impulses (a 0.12 m/s spring push and a 0.53 m/s burn, sheet §2) are left out: under
  half a percent of the deorbit burn, in a direction that depends on the port.
- **Frame**: TEME is treated as inertial over the three hours (its axes turn by
  precession and nutation by well under an arcsecond in that time).
- **Forces**: two-body gravity and J2 with SGP4's own WGS72 constants (so the first
  orbits agree with SGP4, which the tests check); drag in air that turns with the Earth,
  its density from the piecewise-exponential model of Vallado (2013, Table 8-4, built
  from the US Standard Atmosphere 1976 and CIRA-72); and the descent module's lift.
- **Burn**: impulsive, retrograde along the inertial velocity, at mid-burn (2 min 20.5 s
  after ignition). A finite burn at 2.95 kN bends the velocity through the same 18° arc;
  the impulse at its middle matches it to first order.
- **Vehicles**: the three-module stack until 139.9 km, then the descent module alone,
  each with a ballistic coefficient ``m / (C_D A)``; the descent module's lift is
  ``L/D`` times its drag, flown at a constant bank angle so that only ``L/D cos(bank)``
  of it points up; the side part is taken to cancel out over the guidance's bank
  reversals (real guidance rolls the capsule to steer, and flips the roll to keep the
  cross-range small).
- **Under the parachutes**: no horizontal motion. The drogue falls at 80 m/s (sheet) to
  7 km, where the main canopy opens; it falls at 7.2 m/s at the ground (sheet) and
  faster higher up, where the air is thinner (terminal speed goes as ``1/sqrt(ρ)``).
  The landing is on the WGS84 ellipsoid (the steppe lies some 350 m above it).

Integration is a fixed-step fourth-order Runge-Kutta in plain floats; altitude
crossings are found by bisecting the length of the step that crosses them. Nothing
is random, so the same inputs give the same answer bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sgp4.earth_gravity import wgs72

from ..times import datetime_to_ms, format_iso, ms_to_datetime
from .elements import ElementSet
from .places import place_name
from .propagation import geodetic, propagate_teme, teme_to_itrs

# --- the timeline (reference sheet, Addendum §4; the CSA's MS-11 timeline) ---
SEPARATION_AFTER_UNDOCK_S = 90.0  # undock command 19:24:00, separation 19:25:30
BURN_AFTER_SEPARATION_S = 2 * 3600 + 29.5 * 60  # MS-11 2 h 29.5 min (MS-04 2 h 30, MS-15 2 h 29)
BURN_DURATION_S = 4 * 60 + 41.0  # MS-11, 4 min 41 s
BURN_DELTA_V_M_S = 128.0  # every source: 128 m/s
BURN_THRUST_N = 2950.0  # main engine, 2.95 kN
MODULE_SEPARATION_ALT_KM = 139.9
ENTRY_INTERFACE_ALT_KM = 99.7
PARACHUTE_ALT_KM = 10.8  # command to open the chutes
DROGUE_SPEED_M_S = 80.0  # the drogue slows the capsule from 230 to 80 m/s
LANDING_SPEED_M_S = 7.2  # under the main canopy, at the ground
# The main canopy opens at about 7 km (laboratoridenvol.com's Soyuz parachute page;
# Russian Wikipedia, "about 7 km"); both weak sources, so the figure is rounded.
MAIN_CHUTE_ALT_KM = 7.0

# --- the vehicles ---
# Stack (descent + orbital + instrument modules): its mass is what the sheet's own burn
# figures imply (thrust x time / delta-v = 2950 N x 281 s / 128 m/s = 6,476 kg, inside
# Energia's "up to 7,220 kg" at launch); its area the 2.72 m maximum diameter (Energia),
# end-on; C_D 2.2, the usual free-molecular figure for a satellite (estimate).
STACK_MASS_KG = BURN_THRUST_N * BURN_DURATION_S / BURN_DELTA_V_M_S
STACK_AREA_M2 = math.pi * (2.72 / 2) ** 2
STACK_DRAG_COEFFICIENT = 2.2
# Descent module: ~2,900 kg (Energia; NASA's 6,393 lb), 2.2 m across (Energia); C_D 1.3
# for a blunt heat shield flown at its trim angle (estimate, modified Newtonian theory
# for a shallow spherical cap gives 1.2-1.5); L/D 0.3 (estimate: unreferenced figures of
# 0.18-0.3 are quoted); bank 65° (estimate, set against the sheet's MS-11 entry: at 65°
# the peak is 4.1 g, inside the sheet's 4-5 g, and entry interface to parachute takes
# 8.0 min against MS-11's 8 min 17 s; 60° gives 3.8 g and 8.4 min, 70° 4.7 g and 7.6 min).
CAPSULE_MASS_KG = 2900.0
CAPSULE_AREA_M2 = math.pi * (2.2 / 2) ** 2
CAPSULE_DRAG_COEFFICIENT = 1.3
CAPSULE_LIFT_TO_DRAG = 0.3
CAPSULE_BANK_DEG = 65.0

# --- Earth ---
MU_KM3_S2 = wgs72.mu  # SGP4's gravity model, so that the coast agrees with SGP4
EARTH_RADIUS_KM = wgs72.radiusearthkm
J2 = wgs72.j2
EARTH_ROTATION_RAD_S = 7.292115e-5  # WGS84 / IERS
WGS84_A_KM = 6378.137
WGS84_E2 = 6.69437999014e-3  # first eccentricity squared
STANDARD_GRAVITY_M_S2 = 9.80665

# Vallado (2013), Fundamentals of Astrodynamics and Applications, 4th ed., Table 8-4:
# base altitude (km), density there (kg/m^3), scale height (km).
_ATMOSPHERE = np.array([
    (0, 1.225, 7.249), (25, 3.899e-2, 6.349), (30, 1.774e-2, 6.682), (40, 3.972e-3, 7.554),
    (50, 1.057e-3, 8.382), (60, 3.206e-4, 7.714), (70, 8.770e-5, 6.549), (80, 1.905e-5, 5.799),
    (90, 3.396e-6, 5.382), (100, 5.297e-7, 5.877), (110, 9.661e-8, 7.263), (120, 2.438e-8, 9.473),
    (130, 8.484e-9, 12.636), (140, 3.845e-9, 16.149), (150, 2.070e-9, 22.523), (180, 5.464e-10, 29.740),
    (200, 2.789e-10, 37.105), (250, 7.248e-11, 45.546), (300, 2.418e-11, 53.628), (350, 9.518e-12, 53.298),
    (400, 3.725e-12, 58.515), (450, 1.585e-12, 60.828), (500, 6.967e-13, 63.822), (600, 1.454e-13, 71.835),
    (700, 3.614e-14, 88.667), (800, 1.170e-14, 124.64), (900, 5.245e-15, 181.05), (1000, 3.019e-15, 268.00),
])
_BASE_KM = [float(x) for x in _ATMOSPHERE[:, 0]]
_RHO0 = [float(x) for x in _ATMOSPHERE[:, 1]]
_SCALE_KM = [float(x) for x in _ATMOSPHERE[:, 2]]

# Steps: the coast is smooth (10 s gives millimetres); in the thick air the capsule's
# deceleration changes over seconds. tests/test_descent.py checks that halving them
# moves the landing by under a kilometre.
COAST_STEP_S = 10.0
ENTRY_STEP_S = 0.5


@dataclass(frozen=True)
class Vehicle:
    """What the air does to a body: ``ballistic_kg_m2 = m / (C_D A)``, and its lift, ``L/D``
    times its drag, flown at ``bank_deg`` from straight up."""

    ballistic_kg_m2: float
    lift_to_drag: float = 0.0
    bank_deg: float = 0.0

    @property
    def lift_up(self) -> float:
        """The part of ``L/D`` that points away from the Earth, ``L/D cos(bank)``."""
        return self.lift_to_drag * math.cos(math.radians(self.bank_deg))


STACK = Vehicle(STACK_MASS_KG / (STACK_DRAG_COEFFICIENT * STACK_AREA_M2))
CAPSULE = Vehicle(CAPSULE_MASS_KG / (CAPSULE_DRAG_COEFFICIENT * CAPSULE_AREA_M2),
                  CAPSULE_LIFT_TO_DRAG, CAPSULE_BANK_DEG)


@dataclass(frozen=True)
class Descent:
    """A planned Soyuz descent: when each event happens (UTC) and where the capsule lands.

    ``burn_utc`` is the ignition of the deorbit burn; ``landing_lat_deg`` and
    ``landing_lon_deg`` are WGS84; ``place`` names them (:func:`~issim.orbit.places.place_name`).
    ``peak_deceleration_g`` is the largest aerodynamic deceleration, in standard gravities.
    """

    undock_utc: datetime
    separation_utc: datetime
    burn_utc: datetime
    module_separation_utc: datetime
    entry_interface_utc: datetime
    parachute_utc: datetime
    landing_utc: datetime
    landing_lat_deg: float
    landing_lon_deg: float
    place: str
    peak_deceleration_g: float

    def to_json(self) -> dict:
        times = {k: format_iso(datetime_to_ms(v), 0) for k, v in vars(self).items() if k.endswith("_utc")}
        return {**times, "landing_lat_deg": round(self.landing_lat_deg, 4),
                "landing_lon_deg": round(self.landing_lon_deg, 4), "place": self.place,
                "peak_deceleration_g": round(self.peak_deceleration_g, 2)}


def density_kg_m3(alt_km: float) -> float:
    """Air density at a geodetic altitude (Vallado's exponential table; its bottom layer below 0)."""
    i = max(0, min(len(_BASE_KM) - 1, _layer(alt_km)))
    return _RHO0[i] * math.exp(-(alt_km - _BASE_KM[i]) / _SCALE_KM[i])


def _layer(alt_km: float) -> int:
    lo, hi = 0, len(_BASE_KM) - 1
    while lo < hi:  # the last base at or below alt_km
        mid = (lo + hi + 1) // 2
        if _BASE_KM[mid] <= alt_km:
            lo = mid
        else:
            hi = mid - 1
    return lo


def altitude_km(x: float, y: float, z: float) -> float:
    """Height above the WGS84 ellipsoid of a point ``(x, y, z)`` km from the Earth's centre.

    The ellipsoid's radius is taken along the point's own direction (the geocentric
    radius), which differs from the true geodetic height by under 10 m below 500 km.
    """
    r = math.sqrt(x * x + y * y + z * z)
    s2 = z * z / (r * r)  # sin² of the geocentric latitude
    surface = WGS84_A_KM * math.sqrt((1.0 - WGS84_E2) / (1.0 - WGS84_E2 * (1.0 - s2)))
    return r - surface


def acceleration(state: tuple, vehicle: Vehicle) -> tuple:
    """Time derivative of a TEME state ``(x, y, z, vx, vy, vz)`` (km, km/s).

    Gravity (two-body + J2), drag against the air turning with the Earth about TEME's
    z axis, and lift perpendicular to the airspeed in the vertical plane.
    """
    x, y, z, vx, vy, vz = state
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    k = -MU_KM3_S2 / (r2 * r)
    j = 1.5 * J2 * EARTH_RADIUS_KM ** 2 / r2
    zz = 5.0 * z * z / r2
    ax = k * x * (1.0 + j * (1.0 - zz))
    ay = k * y * (1.0 + j * (1.0 - zz))
    az = k * z * (1.0 + j * (3.0 - zz))
    alt = altitude_km(x, y, z)
    if alt < 1000.0:  # the table's top; above it drag is below 1e-10 of gravity
        wx, wy = vx + EARTH_ROTATION_RAD_S * y, vy - EARTH_ROTATION_RAD_S * x  # airspeed
        wz = vz
        w = math.sqrt(wx * wx + wy * wy + wz * wz)
        # drag per unit airspeed, in 1/s: ½ ρ |w| / β, with |w| in m/s
        d = 0.5 * density_kg_m3(alt) * w * 1000.0 / vehicle.ballistic_kg_m2
        ax, ay, az = ax - d * wx, ay - d * wy, az - d * wz
        lift_up = vehicle.lift_up
        if lift_up:
            # up = the radial direction with its along-airspeed part removed
            ux, uy, uz = x / r, y / r, z / r
            along = (ux * wx + uy * wy + uz * wz) / (w * w)
            ux, uy, uz = ux - along * wx, uy - along * wy, uz - along * wz
            u = math.sqrt(ux * ux + uy * uy + uz * uz)
            lift = lift_up * d * w / u
            ax, ay, az = ax + lift * ux, ay + lift * uy, az + lift * uz
    return (vx, vy, vz, ax, ay, az)


def rk4_step(state: tuple, dt_s: float, vehicle: Vehicle) -> tuple:
    """One fourth-order Runge-Kutta step of :func:`acceleration`."""
    k1 = acceleration(state, vehicle)
    k2 = acceleration(tuple(s + 0.5 * dt_s * k for s, k in zip(state, k1)), vehicle)
    k3 = acceleration(tuple(s + 0.5 * dt_s * k for s, k in zip(state, k2)), vehicle)
    k4 = acceleration(tuple(s + dt_s * k for s, k in zip(state, k3)), vehicle)
    return tuple(s + dt_s / 6.0 * (a + 2.0 * b + 2.0 * c + e) for s, a, b, c, e in zip(state, k1, k2, k3, k4))


def coast(state: tuple, duration_s: float, vehicle: Vehicle, step_s: float = COAST_STEP_S) -> tuple:
    """Integrate for ``duration_s`` seconds (the last step shortened to end exactly)."""
    n = max(1, math.ceil(duration_s / step_s))
    dt = duration_s / n
    for _ in range(n):
        state = rk4_step(state, dt, vehicle)
    return state


def fly_down_to(state: tuple, alt_km: float, vehicle: Vehicle, step_s: float,
                limit_s: float = 6 * 3600.0) -> tuple[tuple, float, float]:
    """Integrate until the altitude falls to ``alt_km``.

    Returns the state there, the time taken (s) and the peak aerodynamic deceleration on
    the way (m/s²). The crossing step is found by bisection on its length, to 1 ms.
    Raises ``ValueError`` if the altitude is not reached within ``limit_s``.
    """
    t, peak = 0.0, 0.0
    while t < limit_s:
        nxt = rk4_step(state, step_s, vehicle)
        peak = max(peak, aero_deceleration_m_s2(nxt, vehicle))
        if altitude_km(*nxt[:3]) <= alt_km:
            lo, hi = 0.0, step_s
            while hi - lo > 1e-3:
                mid = 0.5 * (lo + hi)
                if altitude_km(*rk4_step(state, mid, vehicle)[:3]) <= alt_km:
                    hi = mid
                else:
                    lo = mid
            return rk4_step(state, hi, vehicle), t + hi, peak
        state, t = nxt, t + step_s
    raise ValueError(f"the descent did not reach {alt_km} km within {limit_s / 3600:.0f} h; "
                     "the burn is too small for this orbit")


def aero_deceleration_m_s2(state: tuple, vehicle: Vehicle) -> float:
    """The size of the drag-and-lift acceleration (m/s²), what the crew feel as g-load."""
    x, y, z, vx, vy, vz = state
    wx, wy = vx + EARTH_ROTATION_RAD_S * y, vy - EARTH_ROTATION_RAD_S * x
    w2 = wx * wx + wy * wy + vz * vz
    drag = 0.5 * density_kg_m3(altitude_km(x, y, z)) * w2 * 1e6 / vehicle.ballistic_kg_m2
    return drag * math.hypot(1.0, vehicle.lift_to_drag)


def parachute_time_s(from_alt_km: float = PARACHUTE_ALT_KM) -> float:
    """Seconds from the parachute command to the ground.

    The drogue falls at :data:`DROGUE_SPEED_M_S` down to :data:`MAIN_CHUTE_ALT_KM`; under
    the main canopy the capsule falls at its terminal speed, ``7.2 m/s`` at sea level
    and ``7.2 sqrt(ρ0 / ρ(h))`` above. With ``ρ = ρ0 exp(-h / H)`` (the table's bottom
    layer, which holds up to 25 km) the fall from ``h`` takes ``2H / v0 (1 - exp(-h / 2H))``.
    """
    main_km = min(from_alt_km, MAIN_CHUTE_ALT_KM)
    drogue_s = (from_alt_km - main_km) * 1000.0 / DROGUE_SPEED_M_S
    two_h_m = 2.0 * _SCALE_KM[0] * 1000.0
    return drogue_s + two_h_m / LANDING_SPEED_M_S * (1.0 - math.exp(-main_km * 1000.0 / two_h_m))


def plan_descent(elements: ElementSet, undock_utc: datetime | int,
                 burn_after_separation_s: float = BURN_AFTER_SEPARATION_S) -> Descent:
    """Plan a Soyuz descent that begins with the undock command at ``undock_utc``.

    ``elements`` is the station's orbit; ``undock_utc`` an aware ``datetime`` or UTC
    milliseconds. News reports give the physical separation as "undocked at"; the
    command is 1.5 min earlier. ``burn_after_separation_s`` is when the deorbit burn
    starts (MS-11's 2 h 29.5 min unless given); each second earlier or later moves
    the landing about 7 km along the track. Raises ``ValueError`` if SGP4 cannot
    propagate the station to the separation time (an element set decayed or far from
    its epoch).
    """
    undock_ms = undock_utc if isinstance(undock_utc, (int, np.integer)) else datetime_to_ms(undock_utc)
    sep_ms = int(undock_ms) + round(SEPARATION_AFTER_UNDOCK_S * 1000)
    r, v, err = propagate_teme(elements, sep_ms)
    if err[0]:
        raise ValueError(f"SGP4 cannot propagate {elements.source} to separation at {format_iso(sep_ms)}")
    state = (*map(float, r[0]), *map(float, v[0]))

    # Coast to mid-burn, then take the whole delta-v there, against the inertial velocity.
    mid_burn_s = burn_after_separation_s + 0.5 * BURN_DURATION_S
    state = coast(state, mid_burn_s, STACK, COAST_STEP_S)
    speed = math.sqrt(sum(c * c for c in state[3:]))
    shrink = 1.0 - BURN_DELTA_V_M_S / 1000.0 / speed
    state = (*state[:3], *(c * shrink for c in state[3:]))

    state, to_modsep_s, _ = fly_down_to(state, MODULE_SEPARATION_ALT_KM, STACK, COAST_STEP_S)
    state, to_entry_s, peak1 = fly_down_to(state, ENTRY_INTERFACE_ALT_KM, CAPSULE, ENTRY_STEP_S)
    state, to_chute_s, peak2 = fly_down_to(state, PARACHUTE_ALT_KM, CAPSULE, ENTRY_STEP_S)

    modsep_s = mid_burn_s + to_modsep_s
    entry_s = modsep_s + to_entry_s
    chute_s = entry_s + to_chute_s
    chute_ms = sep_ms + round(chute_s * 1000)
    # Under the canopy the capsule comes straight down: the landing is below the point
    # where the parachute opened, fixed to the turning Earth from then on.
    r_itrs, _ = teme_to_itrs(np.array([chute_ms]), np.array([state[:3]]), np.array([state[3:]]))
    lat, lon, _ = geodetic(r_itrs)
    lat_deg, lon_deg = float(lat[0]), float(lon[0])
    landing_ms = chute_ms + round(parachute_time_s() * 1000)

    return Descent(
        undock_utc=ms_to_datetime(undock_ms),
        separation_utc=ms_to_datetime(sep_ms),
        burn_utc=ms_to_datetime(sep_ms + round(burn_after_separation_s * 1000)),
        module_separation_utc=ms_to_datetime(sep_ms + round(modsep_s * 1000)),
        entry_interface_utc=ms_to_datetime(sep_ms + round(entry_s * 1000)),
        parachute_utc=ms_to_datetime(chute_ms),
        landing_utc=ms_to_datetime(landing_ms),
        landing_lat_deg=lat_deg,
        landing_lon_deg=lon_deg,
        place=place_name(lat_deg, lon_deg),
        peak_deceleration_g=max(peak1, peak2) / STANDARD_GRAVITY_M_S2,
    )
