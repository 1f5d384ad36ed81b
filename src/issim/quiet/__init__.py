"""Quiet frames, many to a compiled call, while nothing in a run needs Python.

Most frames of most runs nothing happens: the physics is quiet (:mod:`issim.physics.frame`),
no event or command is due, the control map has nothing new to read, the minds only keep
time, and no one has a decision to make. :class:`QuietFrames` runs such frames of a
:class:`~issim.runner.Runner` as one call of :func:`~issim.quiet.kernel.quiet_frames` (the
physics, custody's and the minds' quiet part, the clock and the recorder's samples), up to
a limit, and hands the frame where something needs Python back to the engine
(:meth:`~issim.sim.engine.Simulation.finish_frame`) at the point it was stopped. The same
state, log and telemetry, bit for bit, as the frames run one by one (``tests/test_quiet.py``).

It serves the standard line-up only: the seven physics subsystems run as one
(:class:`~issim.physics.frame.PhysicsFrame`), then custody, the minds and the triggers,
each exactly of its class, the triggers' conditions all of contact, person, death or
deaths (a channel's is Python's, every frame), and every policy either idle or gated on
the minds' ``agents.due`` (the crew minds). Before each call it checks what the kernel
takes as given for the frames it runs, all things only Python writes: no event due before
the limit, no one adrift, at work, with an intention, a goal to take control, a
disclosure or a suspicion to act on, no story under way, no one due, no one told of a
fall, the minds' log read to its end, and each trigger's last state what its update would
write. Anything else, and the engine runs the frame itself. A control map not kept for
what it reads now lets the call run up to the next minute, which the engine finishes (it
works the map out then). A call also ends after a frame that made a new running total,
so that the totals' order is the order they were made in, as frame by frame.
"""

from __future__ import annotations

from operator import methodcaller
from typing import Optional

import numpy as np

from ..orbit.environment import ENV_CHUNK_FRAMES
from ..scenario.triggers import EDGE_CONDITIONS
from ..sim.fastnp import count_nonzero

_COMPILED = ("contact", "person_in", "dead", "at_least_dead")  # the conditions of kernel.CONTACT...
_NO_CONTACT = np.zeros(2, dtype=bool)


def _condition_row(triggers, condition) -> tuple:
    """A trigger's condition as the kernel reads it: ``(kind, x, y)``; a condition naming
    nothing known is never true (``Triggers._check``)."""
    from ..sim.world import SEGMENTS
    from .codes import AT_LEAST_DEAD, CONTACT, DEAD, NEVER, PERSON_IN

    kind, value = condition
    if triggers.problem(condition):
        return (NEVER, 0, 0)
    if kind == "contact":
        return (CONTACT, SEGMENTS.index(value), 0)
    if kind == "person_in":
        return (PERSON_IN, triggers._people[value[0]], triggers._volumes[value[1]])
    if kind == "dead":
        return (DEAD, triggers._people[value], 0)
    return (AT_LEAST_DEAD, int(value), 0)


SHORT = 8  # a call that runs fewer frames than this is a short one (see QuietFrames._wait)
MAX_WAIT = 64  # frames
_has_update = methodcaller("__contains__", "update")  # (d -> "update" in d)


class QuietFrames:
    """Quiet frames of one run, many to a call (see the module); :meth:`of` makes one when
    the run's subsystems and policies allow it."""

    def __init__(self, sim, custody, agents, triggers):
        self.sim = sim
        self.custody = custody
        self.agents = agents
        self.triggers = triggers
        self._conditions = np.array([_condition_row(triggers, s.condition) for s in triggers.specs],
                                    dtype=np.int64).reshape(len(triggers.specs), 3)
        self._instance_dicts = tuple(vars(s) for s in sim.subsystems)
        self.calls = 0  # calls made, frames run in them (for the bench and the tests)
        self.frames = 0
        # After a try that ran no quiet frame or few (a leak draining, a crisis under way), the
        # next waits a while, longer each time (up to MAX_WAIT frames), so that a stretch of
        # busy frames costs few tries; a long call resets it. (Which frames run here changes
        # nothing they write: the same frames run by the engine write the same bits.)
        self._retry_frame = 0
        self._wait = 0

    @classmethod
    def of(cls, sim, policies) -> Optional["QuietFrames"]:
        """A :class:`QuietFrames` for ``sim`` run with ``policies`` (``{person: policy}``), or
        None when its subsystems are not the standard line-up or a policy is neither idle nor
        gated on the minds' ``agents.due``."""
        from ..agents.mind import Agents
        from ..agents.policies import Idle
        from ..control.custody import Custody
        from ..scenario.triggers import Triggers

        fused = sim.fused
        rest = sim._after_fused
        if fused is None or len(rest) != 3 or tuple(map(type, rest)) != (Custody, Agents, Triggers):
            return None
        if any(spec.condition[0] not in _COMPILED for spec in rest[2].specs):
            return None  # (a channel's condition: looked at every frame, in Python)
        for policy in policies.values():
            if not isinstance(policy, Idle) and getattr(policy, "gate", None) != "agents.due":
                return None
        return cls(sim, rest[0], rest[1], rest[2])

    # ------------------------------------------------------------------ running

    def run(self, until_ms: int) -> bool:
        """Run quiet frames from now while each frame starts before ``until_ms``; the frame
        where something needs Python is finished by the engine. True when at least one frame
        was run (the run stands at a frame boundary either way)."""
        sim = self.sim
        st = sim.state
        t0 = st.t_ms
        dt_ms = sim.dt_ms
        n = -(-(until_ms - t0) // dt_ms)
        next_event = sim.queue.peek_ms()
        if next_event is not None:
            n = min(n, -(-(next_event - t0) // dt_ms))
        if n < 2 or st.frame < self._retry_frame:
            return False
        done = self._run(sim, st, t0, dt_ms, n)
        if done < min(SHORT, n):
            self._wait = min(MAX_WAIT, 2 * self._wait + 1)
            self._retry_frame = st.frame + self._wait  # (st: the frame where the call stopped)
        else:
            self._wait = 0
        return done > 0

    def _run(self, sim, st, t0: int, dt_ms: int, n: int) -> int:
        """:meth:`run`'s work: the frames it ran (a frame finished by the engine counts)."""
        a = st.arrays
        fused = sim.fused
        if fused._kernel is None or fused._dt[0] != sim.dt_s or any(map(_has_update, self._instance_dicts)):
            return 0
        physics = fused._frame_args(a)  # (first: gathering them may rebind an array, e.g. atm.moles made C-contiguous)
        minds = self._minds(st, a)
        if minds is None:
            return 0
        custody = self._custody(st, a)
        if custody is None:
            return 0
        rec = sim.recorder.compiled_sample(st)
        if rec is None:
            return 0
        triggers = self._triggers(st, a, t0, dt_ms)
        if triggers is None:
            return 0
        n = min(n, triggers[1])
        if n < 1:
            return 0
        row, tables, elements = sim.environment.tables(st)
        n = min(n, ENV_CHUNK_FRAMES - row)
        comms = fused.subsystems[5]
        facts = st.facts
        in_sessions, period_ms = comms.session_clock(elements)
        totals = st.totals
        if list(map(totals.get, fused._keys)) != fused._written:
            fused._read_totals(totals)
        from ..physics.kernel_args import DONE
        from ..sim.kernels import kernel
        from .codes import AFTER_PHYSICS, PHYSICS

        clock = np.array([t0, st.frame, row, n, dt_ms], dtype=np.int64)
        crew = fused.subsystems[2]
        done, why, code = kernel("quiet_frames")(
            physics, clock, tables,
            (float(sim.dt_s), bool(crew.follow_schedule), elements is not None, in_sessions,
             int(facts["comms.start_ms"]) if in_sessions else 0, period_ms, not not facts["comms.queue"]),
            custody, minds[0], minds[1], triggers[0], rec)
        fused._write_totals(totals)
        sim.environment.ran(st, st.frame, done)
        every = sim.recorder.every_frames
        frame0 = st.frame
        st.t_ms = t0 + done * dt_ms
        st.frame = frame0 + done
        sim.recorder.sampled(st.frame // every - frame0 // every, rec[-1][0])
        self.calls += 1
        self.frames += done
        if why == PHYSICS:
            sim.finish_frame(code)
        elif why == AFTER_PHYSICS:
            sim.finish_frame(DONE * 256)  # (the frame's physics is done)
        else:
            return done
        return done + 1

    # ------------------------------------------------------------------ what the kernel takes as given

    def _triggers(self, st, a, t0: int, dt_ms: int) -> Optional[tuple]:
        """``(the kernel's triggers, frames before one is armed)``, when each trigger's update
        would now change nothing (its ``last`` is what it would write); else None."""
        trig = self.triggers
        specs = trig.specs
        n = 1 << 62
        if not specs:
            return (self._conditions, np.zeros(0, dtype=bool), _NO_CONTACT, a["crew.location"], a["crew.alive"]), n
        last = a["triggers.last"].tolist()
        then = []
        for k, spec in enumerate(specs):
            armed = t0 >= trig.arm_ms[k]
            if not armed:
                n = min(n, -(-(trig.arm_ms[k] - t0) // dt_ms))
            now = trig._checks[k](a)
            if last[k] != (now if spec.condition[0] in EDGE_CONDITIONS else (now and armed)):
                return None
            then.append(now)
        contact = a["comms.contact"] if "comms.contact" in a else _NO_CONTACT
        return (self._conditions, np.array(then, dtype=bool), contact, a["crew.location"], a["crew.alive"]), n

    def _custody(self, st, a) -> Optional[tuple]:
        """Custody's arrays, when its update is quiet but for the items carried and the map's
        minute, and the map is what it would be worked out from now; else None."""
        if count_nonzero(a["control.adrift"]):
            return None
        task = a["control.task"]
        if task.size and max(task.tolist()) >= 0:
            return None
        cmap = self.custody.map
        inputs = cmap.inputs(st)
        if not all(v.flags.c_contiguous for v in inputs):
            return None
        # the kept maps, and the row of the one the next minute's would be while they stay the same
        keys, maps, row = cmap.table(cmap.key(st, inputs))
        # (row -1: none kept for what it reads now; the call looks the map up at the next minute, and
        # stops there for Python to work it out unless what it reads then is a map kept)
        flat = tuple(v.reshape(-1).view(np.uint8) for v in inputs)
        holder = a["control.item_holder"] if "control.item_holder" in a else np.zeros(0, dtype=np.int64)
        volume = a["control.item_volume"] if "control.item_volume" in a else np.zeros(0, dtype=np.int64)
        return (holder, volume, a["crew.location"], a["control.map_minute"], a["control.map"], keys, maps,
                np.array([row], dtype=np.int64), flat, tuple(v.copy() for v in flat))

    def _minds(self, st, a) -> Optional[tuple]:
        """The minds' arrays and numbers, when their update is only keeping time; else None."""
        from ..agents import affect, goals
        from ..agents.crisis import NONE as NO_INTENT
        from ..agents.mind import HOLD_AT
        from ..station.people import SLEEP

        agents = self.agents
        due = a["agents.due"]
        if count_nonzero(due):
            return None
        departed = a["control.departed"] if "control.departed" in a else None
        if not agents.minds or agents.sim is None:
            none = np.zeros(0, dtype=np.int64)
            off = np.zeros(0, dtype=bool)
            return ((np.zeros(2, dtype=np.int64), np.zeros(0), none, off, none, none, off, off, none,
                     np.zeros(1, dtype=bool)), (False, 0, 0, 0, 0, 0, 0, False, 0.0))
        if a["agents.log_pos"].item(0) != len(st.log):
            return None
        intent, goal = a["agents.intent"], a["agents.goal"]
        if intent.tolist().count(NO_INTENT) != intent.size or max(a["agents.plot"].tolist()) >= 0:
            return None
        if max(a["agents.suspicion"].tolist()) >= HOLD_AT or count_nonzero(a["agents.deadline_ms"]):
            return None
        if a["agents.urgency"].tobytes() != bytes(a["agents.urgency"].nbytes):
            return None
        if a["agents.peace"].item(0) <= 0 and (goals.TAKE_CONTROL in goal.tolist()
                                               or count_nonzero(a["agents.disclosed"])):
            return None
        arrays = (a["agents.mind_ms"], a["agents.fear"], a["agents.next_ms"], due, intent, goal, a["crew.alive"],
                  a["crew.conscious"], a["crew.activity"], departed if departed is not None else np.zeros(1, dtype=bool))
        numbers = (True, agents.war_at_ms, agents.interval_ms, agents.crisis_ms, NO_INTENT, goals.NO_GOAL, SLEEP,
                   departed is not None, float(affect.FEAR_BASE))
        return arrays, numbers
