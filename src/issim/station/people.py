"""Facts of life aboard that more than the physics needs: the day's activities and the suit.

The crew's bodies (:mod:`issim.physics.crew`) give each activity its metabolic rates; the
crew's minds (:mod:`issim.agents`) need to know only whether someone is asleep or how long
a suit lasts, and read it here rather than from the physics.
"""

ACTIVITY_NAMES = ("nominal", "sleep", "exercise 0-15 min", "exercise 15-30 min", "recovery 0-15 min",
                  "recovery 15-30 min", "recovery 30-45 min", "recovery 45-60 min", "unconscious", "eva", "dead")
NOMINAL, SLEEP, EXERCISE_1, EXERCISE_2, RECOVERY_1, RECOVERY_2, RECOVERY_3, RECOVERY_4, UNCONSCIOUS, EVA, DEAD = range(
    len(ACTIVITY_NAMES))
EVA_AIRLOCKS = ("quest", "poisk")  # iss.toml: Quest (USOS); Poisk, the Russian EVA airlock since Pirs left
SUIT_ENDURANCE_S = 8.5 * 3600.0  # estimate: EMU consumables ~8 h plus a 30-minute reserve
