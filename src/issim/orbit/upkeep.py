"""Orbit upkeep: burns change the element set, drag lowers the orbit between them.

SGP4 carries the orbit between burns: its drag term (B*) lowers the mean altitude as the
real station's does. A burn ends one element set and starts another at the burn's time:
SGP4's Brouwer mean elements at that moment, with the semi-major axis raised by a
tangential impulse (Gauss's equation for a near-circular orbit, ``Δa = 2 a Δv / v``),
turned back into the Kozai mean motion that ``sgp4init`` expects.

The B* of a single published set is a noisy fit: the newest bundled set's 0.000196 gives
0.065 km/day of decay, while the station really lost 0.113 km/day over the fortnight
before it. :func:`calibrated_drag` scales B* so that SGP4 decays as the published
history did just before the epoch; ``tests/test_upkeep.py`` checks it.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.earth_gravity import wgs72

from ..times import MS_PER_DAY
from .elements import ElementSet, _finish, elements_from_omm
from .propagation import propagate_teme

MU_KM3_S2 = wgs72.mu  # the gravity model SGP4 uses
EARTH_RADIUS_KM = wgs72.radiusearthkm
REENTRY_ALTITUDE_KM = 120.0  # entry interface; below this the station is lost
_EPOCH0 = datetime(1949, 12, 31, tzinfo=timezone.utc)
_DAYS_1949_TO_1970 = (datetime(1970, 1, 1, tzinfo=timezone.utc) - _EPOCH0).days


def _sgp4_epoch_days(t_ms: int) -> float:
    return _DAYS_1949_TO_1970 + t_ms / MS_PER_DAY


def _kozai_from_brouwer(n_brouwer: float, ecc: float, incl: float) -> float:
    """The Kozai mean motion whose un-Kozai'd value (sgp4init's own step) is ``n_brouwer``.

    Mean motions in rad/min; solved by fixed-point iteration (the correction is ~1e-3).
    """
    cosio = math.cos(incl)
    omeosq = 1.0 - ecc * ecc
    d1 = 0.75 * wgs72.j2 * (3.0 * cosio * cosio - 1.0) / (math.sqrt(omeosq) * omeosq)
    n_kozai = n_brouwer
    for _ in range(50):
        ak = (wgs72.xke / n_kozai) ** (2.0 / 3.0)
        delta = d1 / (ak * ak)
        adel = ak * (1.0 - delta * delta - delta * (1.0 / 3.0 + 134.0 * delta * delta / 81.0))
        delta = d1 / (adel * adel)
        target = n_brouwer * (1.0 + delta)
        if abs(target - n_kozai) < 1e-15:
            break
        n_kozai = target
    return n_kozai


def _element_set(template: ElementSet, t_ms: int, n_kozai, ecc, incl, node, argp, mean_anomaly, bstar) -> ElementSet:
    sat = Satrec()
    sat.sgp4init(
        WGS72, "i", template.satrec.satnum, _sgp4_epoch_days(t_ms), bstar, template.satrec.ndot,
        template.satrec.nddot, ecc, argp % (2 * math.pi), incl, mean_anomaly % (2 * math.pi), n_kozai,
        node % (2 * math.pi),
    )
    fields = dict(template.omm_fields)
    fields.update(
        EPOCH=datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        MEAN_MOTION=n_kozai * 1440.0 / (2 * math.pi),
        ECCENTRICITY=ecc,
        INCLINATION=math.degrees(incl),
        RA_OF_ASC_NODE=math.degrees(node % (2 * math.pi)),
        ARG_OF_PERICENTER=math.degrees(argp % (2 * math.pi)),
        MEAN_ANOMALY=math.degrees(mean_anomaly % (2 * math.pi)),
        BSTAR=bstar,
    )
    return _finish(sat, template.name, f"{template.source} (upkeep)", fields, norad_id=template.norad_id)


def orbit_of(state) -> ElementSet | None:
    """The element set a simulation's state holds now (``None`` for a run without orbit).

    The orbit lives in the state as plain OMM fields (``state.facts["orbit.omm"]``), so a
    snapshot carries it and a restored run rebuilds exactly the same set.
    """
    fields = state.facts.get("orbit.omm")
    # A burn or a test may lower the perigee into the air: the run then ends "lost on
    # re-entry", an outcome, so only the fields' own ranges are checked here.
    return elements_from_omm(fields, "orbit state", orbit_size=False) if fields else None


def omm_key(omm) -> tuple | None:
    """An element set's OMM fields as a key (``None`` for none): each field's name, type and
    ``repr``, compared exactly (1 and 1.0 differ), as the process's caches of what an orbit
    gives are keyed."""
    return tuple(sorted((k, type(v).__name__, repr(v)) for k, v in omm.items())) if omm else None


def set_orbit(state, elements: ElementSet) -> None:
    """Replace the orbit in a simulation's state; the version bump tells the environment."""
    state.facts["orbit.omm"] = dict(elements.to_omm())
    state["orbit.version"][0] += 1


def mean_elements_at(elements: ElementSet, t_ms: int) -> dict:
    """SGP4's Brouwer mean elements at ``t_ms`` (angles in rad, ``n`` in rad/min, ``a`` in km)."""
    sat = elements.satrec
    propagate_teme(elements, [t_ms])  # leaves the mean elements of that time on the satrec
    return {"n": sat.nm, "a_km": sat.am * EARTH_RADIUS_KM, "e": sat.em, "i": sat.im,
            "node": sat.Om, "argp": sat.om, "M": sat.mm}


def with_bstar(elements: ElementSet, bstar: float) -> ElementSet:
    """The same set with another drag term."""
    m = mean_elements_at(elements, elements.epoch_ms)
    n_kozai = elements.satrec.no_kozai
    return _element_set(elements, elements.epoch_ms, n_kozai, m["e"], m["i"], m["node"], m["argp"], m["M"], bstar)


def _true_from_mean(mean_anomaly: float, ecc: float) -> float:
    ecc_anomaly = mean_anomaly
    for _ in range(30):  # Kepler's equation by Newton's method
        ecc_anomaly -= (ecc_anomaly - ecc * math.sin(ecc_anomaly) - mean_anomaly) / (1 - ecc * math.cos(ecc_anomaly))
    return 2 * math.atan2(math.sqrt(1 + ecc) * math.sin(ecc_anomaly / 2), math.sqrt(1 - ecc) * math.cos(ecc_anomaly / 2))


def _mean_from_true(true_anomaly: float, ecc: float) -> float:
    ecc_anomaly = 2 * math.atan2(math.sqrt(1 - ecc) * math.sin(true_anomaly / 2),
                                 math.sqrt(1 + ecc) * math.cos(true_anomaly / 2))
    return ecc_anomaly - ecc * math.sin(ecc_anomaly)


def apply_delta_v(elements: ElementSet, t_ms: int, dv_m_s: float) -> ElementSet:
    """A new element set, epoch ``t_ms``, after a tangential impulse of ``dv_m_s``.

    Gauss's equations for an impulse along the velocity of a near-circular orbit, at
    argument of latitude ``u``: ``Δa = 2 a Δv / v``, and the eccentricity vector
    ``(e cos ω, e sin ω)`` moves by ``(2 cos u, 2 sin u) Δv / v`` — the burn point
    becomes the new perigee of a raised orbit. The anomaly is reset so that the station
    is where it was (``u`` unchanged); inclination and node carry over. ``v = sqrt(μ/a)``.
    A negative ``dv_m_s`` lowers the orbit.
    """
    m = mean_elements_at(elements, t_ms)
    a_km, ecc, argp = m["a_km"], m["e"], m["argp"]
    v_km_s = math.sqrt(MU_KM3_S2 / a_km)
    ratio = (dv_m_s / 1000.0) / v_km_s
    a_new = a_km * (1.0 + 2.0 * ratio)
    if a_new <= EARTH_RADIUS_KM:
        raise ValueError("that burn would put the orbit inside the Earth")
    u = argp + _true_from_mean(m["M"], ecc)
    k = ecc * math.cos(argp) + 2.0 * ratio * math.cos(u)
    h = ecc * math.sin(argp) + 2.0 * ratio * math.sin(u)
    ecc_new = math.hypot(k, h)
    if ecc_new >= 0.9:
        raise ValueError("that burn leaves no orbit SGP4 can carry")
    argp_new = math.atan2(h, k)
    mean_anomaly_new = _mean_from_true(u - argp_new, ecc_new)
    n_brouwer = wgs72.xke / (a_new / EARTH_RADIUS_KM) ** 1.5
    n_kozai = _kozai_from_brouwer(n_brouwer, ecc_new, m["i"])
    return _element_set(
        elements, t_ms, n_kozai, ecc_new, m["i"], m["node"], argp_new, mean_anomaly_new, elements.bstar_per_earth_radius
    )


def observed_decay_km_per_day(sets: Sequence[ElementSet], t_ms: int, window_days: float = 20.0) -> float | None:
    """How fast the published sets' mean altitude fell in the days before ``t_ms`` (km/day).

    Uses the sets since the last reboost (a rise of more than 0.2 km between consecutive
    sets) within ``window_days``; ``None`` when fewer than five remain.
    """
    close = sorted((s for s in sets if 0 <= t_ms - s.epoch_ms <= window_days * MS_PER_DAY), key=lambda s: s.epoch_ms)
    alt = [s.mean_altitude_km for s in close]
    start = 0
    for k in range(1, len(close)):
        if alt[k] - alt[k - 1] > 0.2:
            start = k
    close, alt = close[start:], alt[start:]
    if len(close) < 5:
        return None
    days = np.array([s.epoch_ms for s in close], dtype=float) / MS_PER_DAY
    return float(-np.polyfit(days, alt, 1)[0])


def calibrated_drag(elements: ElementSet, sets: Sequence[ElementSet]) -> ElementSet:
    """The set with its B* scaled so that SGP4 decays as the published history did.

    SGP4's decay is proportional to B*; the history's decay comes from
    :func:`observed_decay_km_per_day`. Without enough history the set is returned as is.
    """
    observed = observed_decay_km_per_day(sets, elements.epoch_ms)
    if observed is None or observed <= 0:
        return elements
    if elements.bstar_per_earth_radius <= 0:  # a fit that came out negative: start from a typical value
        elements = with_bstar(elements, 1e-4)
    ten_days = 10 * MS_PER_DAY
    modelled = (orbit_mean_altitude_km(elements, elements.epoch_ms)
                - orbit_mean_altitude_km(elements, elements.epoch_ms + ten_days)) / 10.0
    if modelled <= 0:
        return elements
    return with_bstar(elements, elements.bstar_per_earth_radius * observed / modelled)


def orbit_mean_altitude_km(elements: ElementSet, t_ms: int) -> float:
    """Mean of ``|r| - R`` over one orbit from ``t_ms`` (km): the altitude drag acts on."""
    period_ms = elements.period_min * 60_000
    t = t_ms + np.arange(0, int(period_ms), 10_000, dtype=np.int64)
    r, _, _ = propagate_teme(elements, t)
    return float(np.linalg.norm(r, axis=1).mean() - 6378.137)
