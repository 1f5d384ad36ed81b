"""Quiet frames, many per call (numba): :mod:`issim.quiet` runs it.

:func:`quiet_frames` runs whole frames of a scenario's standard subsystems while nothing in
them needs Python: the physics as :func:`~issim.physics.frame_kernel.physics_frame` runs it,
then the quiet part of custody (the held items carried along, the control map's minute when
the map for what it reads is kept: ``ControlMap.compute``'s memo), of the minds (their minute's
tick and hour's easing of fear while no one is at war, dead or told of a fall; who thinks
again, and who has something to decide) and of the engine's clock and recorder (a sample
copied into the recorder's stage, as :func:`~issim.sim.record_kernel.record_row` copies it).

It stops:

- at the first physics stage that needs Python (:data:`PHYSICS`): the frame is begun, and
  the engine goes on with it from there (:meth:`issim.physics.frame.PhysicsFrame.run`);
- after the physics of a frame whose custody or minds need Python (:data:`AFTER_PHYSICS`):
  nothing of that frame after the physics is written, and the engine runs the rest;
- after a whole frame that made someone due to decide (their policy acts at the next
  frame), or that filled the recorder's stage (Python moves it into its chunk), or at the
  last frame asked for (:data:`WHOLE`).

Each quiet part is the Python's own arithmetic, in its order (the original of each says so);
``tests/test_quiet.py`` holds a run with these calls to the same run frame by frame.
"""

from __future__ import annotations

import math

from numba import njit

from ..physics import frame_kernel
from ..physics.frame_kernel import DONE, physics_frame_of
from ..physics.unmanaged import borrowed
from ..sim import record_kernel
from ..sim.kernel_stamp import stamp_with_callees
from ..sim.record_kernel import record_row
from . import codes
from .codes import (AFTER_PHYSICS, AT_LEAST_DEAD, CONTACT, DEAD, HOUR_MS, MINUTE_MS, NEVER,  # noqa: F401
                    PERSON_IN, PHYSICS, WHOLE)


@njit(cache=True, error_model="numpy")
def _inputs_same(now, then) -> bool:
    for j in range(len(now)):
        a, b = now[j], then[j]
        for i in range(a.size):
            if a[i] != b[i]:
                return False
    return True


@njit(cache=True, error_model="numpy")
def _kept_row(now, keys) -> int:
    """The row of ``keys`` that holds the bytes of ``now`` (each array's in turn, a separator
    byte between: ``ControlMap.key``), -1 if none does."""
    for r in range(keys.shape[0]):
        at = 0
        same = True
        for j in range(len(now)):
            a = now[j]
            for i in range(a.size):
                if keys[r, at + i] != a[i]:
                    same = False
                    break
            if not same:
                break
            at += a.size + 1
        if same:
            return r
    return -1


@njit(cache=True, error_model="numpy")
def _conditions_same(table, then, contact, location, alive) -> bool:
    """Whether every trigger's condition (``table``: kind and its two numbers a row) is what it
    was (``then``) (``issim.scenario.triggers.Triggers._check``)."""
    for k in range(table.shape[0]):
        kind, x, y = table[k, 0], table[k, 1], table[k, 2]
        if kind == CONTACT:
            now = contact[x]
        elif kind == PERSON_IN:
            now = location[x] == y
        elif kind == DEAD:
            now = not alive[x]
        elif kind == NEVER:  # (a condition naming nothing this run has)
            now = False
        else:
            dead = 0
            for p in range(alive.size):
                if not alive[p]:
                    dead += 1
            now = dead >= x
        if now != then[k]:
            return False
    return True


@njit(cache=True, error_model="numpy")
def quiet_frames(args, clock, env, comms, custody, minds, mind_k, triggers, rec):
    """Run up to ``clock[3]`` whole quiet frames from ``clock``: ``(t0 ms, frame, the frame's
    row in env's tables, frames at most, dt ms)``; returns ``(frames done, why it stopped,
    the physics' stage * 256 + code when it was the physics)``.

    ``env``: the orbit's table of the chunk, ``(sunlit, beta, alt, lat, lon)`` a row, the
    sites' elevations and the relays' clearances. ``comms``: ``(dt_s, follow_schedule,
    has_elements, in_sessions, start ms, period ms, queue_waiting)``. ``custody``:
    ``(item holders, item volumes, crew locations, the map's minute, the map, the kept
    maps' keys and maps and the row of the one for now (ControlMap.table; -1: none is kept, and the
    next minute looks it up), what the map reads (flat views), what they were then)``. ``minds``:
    ``(mind_ms, fear, next_ms, due, intent, goal, alive, conscious, activity, departed)``
    and ``mind_k``: ``(any minds, war at ms, interval ms, crisis interval ms, no intent,
    no goal, asleep, with departed, the fear minds ease back to)``. ``triggers``: ``(each trigger's condition as a row of
    kind and two numbers, what each was at the first frame, comms.contact, crew.location,
    crew.alive)``: a frame where one has changed is Python's (the triggers' ``last`` and
    arming are the caller's). ``rec``: ``(addresses, sizes, kinds, stage, sample times, the
    chunk's columns, [staged, samples in the chunk, stage rows, chunk rows, every frames])``;
    a full stage is moved into its rows of the chunk here (:meth:`Recorder._flush`'s move),
    and ``counts[0]`` is kept the number of samples in the stage."""
    env, custody, minds, triggers, rec = borrowed((env, custody, minds, triggers, rec))
    t_start, frame0, row0, n_max, dt_ms = clock[0], clock[1], clock[2], clock[3], clock[4]
    dt_s, follow, has_elements, in_sessions, comms_start, period_ms, queue_waiting = comms
    scalars, sites, relays = env
    holder, item_volume, location, stamp, cmap, kept_keys, kept_maps, kept_row, inputs, then = custody
    mind_ms, fear, next_ms, due, intent, goal, alive, conscious, activity, departed = minds
    has_minds, war_at_ms, interval_ms, crisis_ms, no_intent, no_goal, asleep, with_departed, fear_base = mind_k
    addresses, sizes, kinds, stage, times, columns, counts = rec
    conditions, then_conditions, contact, crew_location, crew_alive = triggers
    staged, n_chunk, stage_rows, chunk_rows, every = counts[0], counts[1], counts[2], counts[3], counts[4]
    n_people = next_ms.size
    pw, att, att_k, crew, crew_edge, wounds, wounds_k = (args.pw, args.att, args.att_k, args.crew, args.crew_edge,
                                                         args.wounds, args.wounds_k)
    ls, prop, links, sessions, atm, leaked_out, totals = (args.ls, args.prop, args.comms, args.sessions, args.atm,
                                                         args.leaked_out, args.totals)
    pw, att, att_k, crew, crew_edge, wounds, wounds_k = borrowed((pw, att, att_k, crew, crew_edge, wounds, wounds_k))
    ls, prop, links, sessions, atm, leaked_out, totals = borrowed((ls, prop, links, sessions, atm, leaked_out, totals))
    totals_made = totals[4][0]
    for j in range(n_max):
        t0 = t_start + j * dt_ms
        frame = frame0 + j
        i = row0 + j
        since_ms = 0.0
        if in_sessions:
            since_ms = (t0 - comms_start) % period_ms
        code = physics_frame_of(pw, att, att_k, crew, crew_edge, wounds, wounds_k, ls, prop, links, sessions, atm,
                                leaked_out, totals, 0, scalars[i, 0] != 0.0, scalars[i, 1], t0, dt_ms, dt_s, follow,
                                frame, has_elements, scalars[i, 2], relays[i], sites[i], in_sessions, since_ms,
                                period_ms, queue_waiting)
        if code != DONE * 256:
            return j, PHYSICS, code
        # custody (Custody.update): nothing adrift, no one at work (the caller's test); the items
        # carried, then the map's minute (which reads where they are). Writing the items here, before
        # a check below may hand the frame to Python, writes what Custody.update writes again.
        for k in range(holder.size):
            if holder[k] >= 0:
                item_volume[k] = location[holder[k]]
        minute = t0 // MINUTE_MS
        new_minute = minute != stamp[0]
        if new_minute and (kept_row[0] < 0 or not _inputs_same(inputs, then)):  # what the map reads has changed
            # (or no map was kept for it when the call began): the map kept for it (ControlMap.compute's memo)
            r = _kept_row(inputs, kept_keys)
            if r < 0:
                return j, AFTER_PHYSICS, 0  # none: the map is worked out (Python)
            kept_row[0] = r
            for k in range(len(inputs)):
                now, was = inputs[k], then[k]
                for b in range(now.size):
                    was[b] = now[b]
        if conditions.shape[0] and not _conditions_same(conditions, then_conditions, contact, crew_location,
                                                        crew_alive):
            return j, AFTER_PHYSICS, 0  # a trigger's condition has changed: Python
        # the minds (Agents.update): its minute's tick while no one is at war or dead
        tick = False
        if has_minds:
            tick = t0 - mind_ms[0] >= MINUTE_MS
            if tick:
                if war_at_ms != 0 and t0 >= war_at_ms:
                    return j, AFTER_PHYSICS, 0
                for p in range(n_people):
                    if not alive[p]:
                        return j, AFTER_PHYSICS, 0
        # ---- the frame is quiet: custody's and the minds' writes
        if new_minute:
            stamp[0] = minute
            r = kept_row[0]
            for s in range(cmap.shape[0]):
                for f in range(cmap.shape[1]):
                    cmap[s, f] = kept_maps[r, s, f]
        anyone_due = False
        if has_minds:
            if tick:  # (affect.tick: no war, no one dead, no one told of a fall)
                mind_ms[0] = t0
                if t0 - mind_ms[1] >= HOUR_MS:
                    hours = (t0 - mind_ms[1]) // HOUR_MS
                    mind_ms[1] = mind_ms[1] + hours * HOUR_MS
                    factor = math.pow(0.9, float(hours))
                    for p in range(n_people):
                        fear[p] = fear_base + (fear[p] - fear_base) * factor
            for p in range(n_people):  # (Agents._due, no one bent on violence)
                at = next_ms[p]
                if at > t0:
                    continue
                busy = intent[p] != no_intent
                next_ms[p] = max(at, t0) + (crisis_ms if busy else interval_ms)
                if not (alive[p] and conscious[p] and not (with_departed and departed[location[p]])):
                    continue
                if not busy and (goal[p] == no_goal or activity[p] == asleep):
                    continue  # (no one is a threat: no one is bent on violence)
                due[p] = True
                anyone_due = True
        # the clock and the recorder (Simulation.advance, Recorder.maybe_record)
        if (frame + 1) % every == 0:
            record_row(addresses, sizes, kinds, stage, staged)
            times[n_chunk] = t0 + dt_ms
            staged += 1
            n_chunk += 1
            if staged == stage_rows and n_chunk < chunk_rows:
                _move_stage(stage, staged, columns, n_chunk - staged)
                staged = 0
            counts[0] = staged  # (kept current: the call may stop at any frame)
            if n_chunk == chunk_rows:  # the chunk is full: the recorder's, to spill or keep
                return j + 1, WHOLE, 0
        if anyone_due or totals[4][0] != totals_made:  # (a total made: Python puts it after those made before)
            return j + 1, WHOLE, 0
    return n_max, WHOLE, 0


@njit(cache=True, error_model="numpy")
def _move_stage(stage, staged, columns, first):
    """The stage's first ``staged`` samples (rows) into the chunk's columns from sample ``first``
    (``columns[c, first + i] = stage[i, c]``): what the recorder's ``_flush`` copies."""
    for c in range(columns.shape[0]):
        for i in range(staged):
            columns[c, first + i] = stage[i, c]


CALLEES = frame_kernel.CALLEES + (frame_kernel, record_kernel, codes)  # the modules quiet_frames calls into
STAMPED = stamp_with_callees(quiet_frames, CALLEES)
