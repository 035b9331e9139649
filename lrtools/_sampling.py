"""Compiled task sampling (numba): the flip-flop pulse trains.

Private module. Each sampler draws from a numpy ``Generator`` passed in (numba
advances the generator's own state) exactly the numbers, in exactly the order, of
the plain loop it replaces, so a seed gives the same batch bit for bit
(``tests/core/test_tasks.py`` checks this against a Python loop).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _grid_steps(duration, dt):
    # int(round(duration / dt)) as Python rounds: half to even, like rint
    return int(np.rint(duration / dt))


@njit(cache=True)
def flip_flop_pulses(rng, B, T, dt, pulse_duration, first_pulse, post_pulse, wait_min,
                     wait_max):
    """The flip-flop pulse trains of :func:`lrtools.tasks.flip_flop_pulses`, compiled.

    Draws from ``rng`` (a numpy ``Generator``, whose state it advances) exactly
    the numbers, in exactly the order, of the plain Python loop it replaces: per
    trial and pulse, one ``random()`` for the sign, then one ``uniform(wait_min,
    wait_max)`` for the wait. The batches are therefore the same bit for bit.
    """
    pulses = np.zeros((B, T))
    state = np.zeros((B, T))
    free = np.ones((B, T), dtype=np.bool_)
    n_pulse = _grid_steps(pulse_duration, dt)
    n_blank = _grid_steps(pulse_duration + post_pulse, dt)
    k_first = min(_grid_steps(first_pulse, dt), T)
    for b in range(B):
        onset = first_pulse
        for k in range(k_first):
            free[b, k] = False
        while True:
            k0 = _grid_steps(onset, dt)
            if k0 >= T:
                break
            sign = 1.0 if rng.random() < 0.5 else -1.0
            for k in range(k0, min(k0 + n_pulse, T)):
                pulses[b, k] = sign
            for k in range(k0, T):
                state[b, k] = sign
            for k in range(k0, min(k0 + n_blank, T)):
                free[b, k] = False
            onset += pulse_duration + post_pulse + rng.uniform(wait_min, wait_max)
    return pulses, state, free


__all__ = ["flip_flop_pulses"]
