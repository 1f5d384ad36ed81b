"""The physics of a frame in one compiled call, while nothing needs Python.

Each physics subsystem's ``update`` calls its compiled kernel and then runs some Python: the
running totals, and the log or the rare work when the kernel says something happened (its
non-zero code). Most frames nothing happens, and then the seven calls, their checks and the
conversion of each kernel's arrays cost more than the arithmetic. :class:`PhysicsFrame`
runs the seven subsystems of a scenario (power, attitude, crew, life support, propulsion,
comms, atmosphere, in that order at the head of the engine's list) as one call of
:func:`~issim.physics.frame_kernel.physics_frame` through a :class:`~issim.sim.bound.Bound`,
its arrays held in one compiled record (:class:`~issim.physics.frame_kernel.FrameArgs`).

When a subsystem needs Python, the compiled call stops there: right after its kernel, and
then its Python part (``_settle``) runs on what the kernel wrote; or before it (attitude
and propulsion, whose quiet frame is checked first), and then its whole ``update`` runs.
The compiled call then goes on from the next subsystem, which reads what the Python part
wrote. So a frame gives the same state whether it is run here or subsystem by subsystem
(``tests/test_fused.py``).

The running totals of the quiet subsystems are added in the call, each as its ``_settle``
adds it (``totals.get(key, 0.0) + amount``, always or when not zero, in the same order), to
a copy of them in an array, which is put back into ``state.totals`` after the call (one
``dict.update``; a total made for the first time lands where its subsystem would have made
it). Before a call the copy is checked against ``state.totals`` (one list comparison) and
read again if anything else wrote them since: a Python part, a command, a restore.

:meth:`PhysicsFrame.of` builds one only for the standard seven at the head of the list,
each exactly of its class, with a hatch graph without a cycle (the atmosphere's kernel
needs a tree); otherwise the engine updates every subsystem itself. A subsystem whose
``update`` has been replaced on the instance (a probe timing it, a test) is honoured: that
frame runs subsystem by subsystem.
"""

from __future__ import annotations

import math
from operator import itemgetter, methodcaller
from typing import Optional

import numpy as np

from ..sim.bound import Bound
from ..times import MS_PER_DAY
from .atmosphere import Atmosphere
from .attitude import Attitude
from .comms import Comms
from .crew import _TOTAL_KEYS as _CREW_TOTAL_KEYS
from .crew import INJURY_INCAPACITATES, INJURY_ZERO, Crew
from .kernel_args import ATMOSPHERE, COMMS, CREW, DONE, LIFESUPPORT, POWER
from .lifesupport import LifeSupport
from .power import Power
from .propulsion import Propulsion

_has_update = methodcaller("__contains__", "update")  # (d -> "update" in d)
STANDARD = (Power, Attitude, Crew, LifeSupport, Propulsion, Comms, Atmosphere)


class PhysicsFrame:
    """The first seven subsystems of a simulation updated together; see the module."""

    def __init__(self, subsystems):
        self.subsystems = tuple(subsystems)
        self._instance_dicts = tuple(vars(s) for s in self.subsystems)
        self._kernel: Optional[Bound] = None  # bound at the first frame (numba is imported then)
        self._dt = (None, 0)  # the last frame length (s) and its milliseconds

    @classmethod
    def of(cls, subsystems) -> Optional["PhysicsFrame"]:
        """A :class:`PhysicsFrame` for the head of ``subsystems`` when it is the standard seven
        (:data:`STANDARD`, each exactly of its class) and the hatch graph is a tree, else None."""
        head = tuple(subsystems[: len(STANDARD)])
        if len(head) != len(STANDARD) or any(type(s) is not c for s, c in zip(head, STANDARD)):
            return None
        if head[-1].tree is None:  # a hatch graph with a cycle: the atmosphere's general solve
            return None
        return cls(head)

    def _bind(self) -> None:
        from ..sim.kernels import kernel
        from .kernel_args import pack_attitude

        self._frame_args = Bound(kernel("frame_args"), self._parts)  # (gathered again alike: no type checks)
        power, attitude, crew, ls, prop, comms, atm = self.subsystems
        for sub in (power, crew, ls, comms):
            if sub._kernel is None:
                sub._bind_kernel()
        if atm._packed is None:
            atm._bind_kernel()
        self._att_k = pack_attitude(attitude.config.min_cmgs, attitude.h_cmg, attitude.amp, attitude.omega,
                                    attitude.torque, attitude.threshold)
        self._edge = np.array(crew._edge, dtype=bool)
        self._leaked = np.zeros(4)
        self._reentry = np.array([prop.reentry_km])
        plans = comms.session_plans
        nr = comms._every_relay.size
        self._sessions = (comms._every_relay, np.array([float(p) for p, _, _ in plans]),
                          np.array([m * 60_000.0 for _, m, _ in plans]),
                          np.array(comms._outside_session, dtype=bool).reshape(len(plans), nr), np.zeros(nr, dtype=bool))
        self._wounds_k = np.array([0.0, INJURY_ZERO, INJURY_INCAPACITATES])  # [0]: the decay over dt_s, at run
        self._bind_totals(power, crew, ls)
        self._kernel = Bound(kernel("physics_frame"), self._kernel_arrays)

    def _bind_totals(self, power, crew, ls) -> None:
        """The running totals the compiled frame adds (see :func:`~issim.physics.frame_kernel.physics_frame`):
        its contributions' keys, each key once (:attr:`_keys`, in the order the subsystems'
        ``_settle`` first add them), and the arrays it adds them in."""
        from .kernel_args import CONTACT_AT, DAYS_AT, LS_AT, OUT_IF_NONZERO, OUT_TOTALS, POWER_ALWAYS, POWER_TOTALS

        ls_pairs = list(ls._out_keys)
        by_position = ([*OUT_TOTALS, *OUT_IF_NONZERO] + list(_CREW_TOTAL_KEYS) + ["crew.days"]
                       + ["comms.usos_contact_s", "comms.ros_contact_s"] + [key for _, key in ls_pairs])
        if (len(OUT_TOTALS), len(OUT_TOTALS) + len(OUT_IF_NONZERO), by_position.index("crew.days"),
                by_position.index("comms.usos_contact_s")) != (POWER_ALWAYS, POWER_TOTALS, DAYS_AT, CONTACT_AT):
            raise RuntimeError("the running totals' layout of frame_kernel no longer matches the subsystems' totals")
        in_order = by_position[:CONTACT_AT] + by_position[LS_AT:] + by_position[CONTACT_AT:LS_AT]  # (comms' last)
        self._keys = tuple(dict.fromkeys(in_order))
        index = {key: i for i, key in enumerate(self._keys)}
        n = len(self._keys)
        self._totals = (np.array([index[key] for key in by_position], dtype=np.int64),
                        np.array([i for i, _ in ls_pairs], dtype=np.int64), np.zeros(n), np.zeros(n, dtype=bool),
                        np.zeros(1, dtype=np.int64))
        self._written: list = []  # what state.totals held for _keys after the last call (None: no such total)
        self._count = -1  # the totals made, as the kernel last counted them (-1: not yet read)

    def _kernel_arrays(self, a) -> tuple:
        """:func:`~issim.physics.frame_kernel.physics_frame`'s arguments but the frame's own: the
        record of :meth:`_parts` (see :class:`Bound`)."""
        return (self._frame_args(a),)

    def _parts(self, a) -> tuple:
        """What :func:`~issim.physics.frame_kernel.frame_args` holds: each subsystem's kernel's
        arguments, as the subsystem gathers them."""
        power, _, crew, ls, _, comms, atm = self.subsystems
        machines = ls._kernel_arrays(a)  # first: it makes atm.moles C-contiguous, rebinding it, if it is not
        att = (a["att.h_secular_nms"], a["att.lost"], a["att.cmgs_working"], a["att.thruster_hold"], a["att.saturated"],
               a["att.momentum_nms"], a["att.momentum_fraction"], a["att.held"])
        links = (a["comms.link_ok"], a["power.bus"], a["comms.relay_scheduled"], a["comms.link_up"], a["comms.contact"],
                 a["comms.power_w"], a["comms.segment_power_w"], *comms._packed, a["comms.recheck"])
        wounds = (a["crew.alive"], a["crew.conscious"], a["crew.bleeding"], a["crew.injury"], a["crew.deficit"],
                  a["crew.health"])
        return (power._kernel_arrays(a), att, self._att_k, crew._kernel_arrays(a), self._edge, wounds, self._wounds_k,
                machines, (a["orbit.alt_km"], self._reentry), links, self._sessions, atm._kernel_arrays(a),
                self._leaked, self._totals)

    def run(self, state, env, dt_s: float, stopped: Optional[int] = None) -> None:
        """Update the seven subsystems over this frame, as their updates one after the other would.

        ``stopped``: the frame is begun, and the compiled call stopped with this answer
        (``stage * 256 + code``, :mod:`issim.quiet`); it goes on from there."""
        subs = self.subsystems
        if stopped is None and any(map(_has_update, self._instance_dicts)):  # replaced on an instance: one by one
            for sub in subs:
                sub.update(state, env, dt_s)
            return
        if self._kernel is None:
            self._bind()
        power, attitude, crew, ls, prop, comms, atm = subs
        if dt_s != self._dt[0]:
            self._dt = (dt_s, int(round(dt_s * 1000)))
            self._wounds_k[0] = crew._decay_factors(dt_s)[1]
        dt_ms = self._dt[1]
        t0 = int(state.t_ms)
        elements = env.elements
        facts = state.facts
        in_sessions, period_ms = comms.session_clock(elements)
        since_ms = (t0 - facts["comms.start_ms"]) % period_ms if in_sessions else 0.0  # (Comms._allowed's)
        per_frame = (bool(env.sunlit), float(env.beta_deg), t0, dt_ms, float(dt_s), bool(crew.follow_schedule),
                     int(state.frame), elements is not None, float(env.alt_km), env.relay_clearance_km,
                     env.site_elevation_deg, in_sessions, since_ms, period_ms)
        kernel, keys, totals = self._kernel, self._keys, state.totals
        start = POWER
        while True:
            if stopped is not None:
                stage, code = divmod(stopped, 256)
                stopped = None
            else:
                if list(map(totals.get, keys)) != self._written:  # written since, by another: read them again
                    self._read_totals(totals)
                stage, code = divmod(kernel(state.arrays, start, *per_frame, not not facts["comms.queue"]), 256)
                self._write_totals(totals)  # the quiet subsystems' totals (before any Python part adds its own)
            if stage == DONE:
                return
            # stopped at ``stage``: its Python part, then the compiled frame again from the next one
            if stage == POWER:
                power._settle(state, code)
            elif stage == CREW:
                crew._settle(state, code, t0, t0 + dt_ms, dt_s)
            elif stage == LIFESUPPORT:
                ls._settle(state, code, dt_s)
            elif stage == COMMS:
                comms._settle(state, state.arrays["comms.contact"], bool(code), dt_s)
            elif stage == ATMOSPHERE:
                atm._settle(state, self._leaked)
            else:  # attitude or propulsion: nothing written, the whole update
                subs[stage].update(state, env, dt_s)
            if stage == ATMOSPHERE:
                return
            start = stage + 1

    def _read_totals(self, totals: dict) -> None:
        """The compiled frame's totals as ``totals`` holds them (0 and not made for one it has not)."""
        now = list(map(totals.get, self._keys))
        _, _, values, present, count = self._totals
        values[:] = [0.0 if v is None else v for v in now]
        present[:] = [v is not None for v in now]
        count[0] = int(present.sum())
        self._written = now
        self._count = -1

    def _write_totals(self, totals: dict) -> None:
        """Put the compiled frame's totals into ``totals``: every one made, in :attr:`_keys`'s
        order (a total made this frame is inserted where its subsystem's ``_settle`` would have)."""
        _, _, values, present, count = self._totals
        if count[0] != self._count:  # a total made (or the first call): which ones are, again
            self._count = int(count[0])
            absent = np.flatnonzero(~present).tolist()
            made = np.flatnonzero(present).tolist()
            self._made_keys = tuple(self._keys[i] for i in made)
            self._pick = itemgetter(*made) if len(made) > 1 else (lambda v, i=tuple(made): tuple(v[j] for j in i))
            self._absent = tuple(absent)
        now = values.tolist()
        if self._absent:
            totals.update(zip(self._made_keys, self._pick(now)))
            for i in self._absent:
                now[i] = None
        else:
            totals.update(zip(self._keys, now))
        self._written = now
