"""Where a run's compiled kernels come from: a module built ahead of time, or numba's JIT.

The physics kernels are written for numba (``@njit``). numba compiles them the first time a
checkout runs them and loads them from its cache afterwards; either way it brings LLVM into
the process: ``import numba`` alone maps its 180 MB library and makes 60 to 100 MB of it
resident, more than a stored month of a run allocates. :mod:`issim.aot` (``make
kernels``, part of ``make setup``) compiles the same kernels once, with numba's
ahead-of-time compiler, into an extension module beside the package (``issim/_kernels*.so``)
and writes what it holds into ``issim/_kernels.json``: each kernel's argument types and the
digest of the sources compiled (:func:`sources_digest`). A run then calls that module, and
never imports numba.

:func:`kernel` gives a :class:`Kernel` by name. It calls the built function whose argument
types are those of the call (:func:`type_key`, numba's own typing of them, worked out
without numba), and numba's JIT otherwise: when nothing is built, when the sources changed
since the build (the module is stale: its code is not the source's), when the environment
says ``ISSIM_KERNELS=jit``, or for argument types the build did not see. Both compile the
same source with the same LLVM, without ``fastmath``: the same bits (``tests/test_aot.py``).

A built kernel cannot take numba's compiled record (:class:`~issim.physics.frame_kernel.FrameArgs`):
the record's Python side is numba's. The built ``frame_args`` gives a :class:`FrameHandle`
instead, an ``int`` holding the record's address and a reference to it (dropped when the
handle is), and the built kernels that read the record take the handle.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np

ENV = "ISSIM_KERNELS"  # "jit": numba's JIT even when a built module is there
MODULE = "issim._kernels"  # the built extension module
MANIFEST = Path(__file__).resolve().parent.parent / "_kernels.json"  # what it holds

# every kernel Python calls, and the module that defines it for numba
DEFINED = {
    "frame_args": "issim.physics.frame_kernel",
    "physics_frame": "issim.physics.frame_kernel",
    "quiet_frames": "issim.quiet.kernel",
    "record_row": "issim.sim.record_kernel",
    "power_frame": "issim.physics.power_kernel",
    "crew_frame": "issim.physics.crew_kernel",
    "machines_frame": "issim.physics.ls_kernel",
    "links_frame": "issim.physics.comms_kernel",
    "atmosphere_frame": "issim.physics.atm_kernel",
}
# the files whose code the built module holds (the package's own, relative to it): a change to
# one makes the module stale. The kernels, what they call and read, and the build's recipe.
SOURCES = ("physics/atm_kernel.py", "physics/comms_kernel.py", "physics/crew_kernel.py", "physics/frame_kernel.py",
           "physics/ls_kernel.py", "physics/power_kernel.py", "physics/gas.py", "physics/kernel_args.py",
           "physics/unmanaged.py", "quiet/kernel.py", "quiet/codes.py", "sim/record_kernel.py", "aot.py",
           "sim/kernels.py")

# the record kernel's kinds of array (issim.sim.record_kernel.record_row)
FLOAT64, BOOL, INT64 = 0, 1, 2
KINDS = {np.dtype(np.float64): FLOAT64, np.dtype(np.bool_): BOOL, np.dtype(np.int64): INT64}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# ---------------------------------------------------------------------------- argument types

def type_key(x):
    """numba's type of ``x`` (as its ``typeof`` gives it), as plain data: an array is
    ``("a", dtype, ndim, layout, writeable, aligned)``, a tuple ``("t", *its items')``, a bool
    ``"b"``, an int within int64 ``"i"``, a float ``"f"``, a :class:`FrameHandle` ``("h",
    its kind)``; anything else a key no build has (so that numba's JIT takes that call). An
    unaligned array, which numba types as aligned, gets a key of its own: numba's JIT takes it.
    Only the arguments' own types are looked at; a kernel's source changing is the digest's
    (:func:`sources_digest`), and code that hands a kernel arguments of other types than the
    build saw only sends those calls to numba's JIT (and the run says so)."""
    t = type(x)
    if t is np.ndarray:
        f = x.flags
        layout = "C" if f.c_contiguous else "F" if f.f_contiguous else "A"
        return ("a", x.dtype.str, x.ndim, layout, f.writeable, f.aligned)
    if t is tuple:
        return ("t", *map(type_key, x))
    if t is bool or t is np.bool_:
        return "b"
    if t is float or t is np.float64:
        return "f"
    if t is int or t is np.int64:
        return "i" if _INT64_MIN <= x <= _INT64_MAX else ("?", "int")
    if t is FrameHandle:
        return ("h", x.kind)
    return ("?", t.__qualname__)


class FrameHandle(int):
    """The built ``frame_args``'s record: its address, and a reference to it that is dropped
    with this object. ``kind``: which of the built record types it is; ``parts``: what it was
    made of (for numba's JIT, should a call need it: :meth:`jit_record`)."""

    def __new__(cls, address: int, kind: int, parts: tuple, release: Callable[[int], None]):
        self = super().__new__(cls, address)
        self.kind, self.parts, self._release, self._jit = kind, parts, release, None
        return self

    def jit_record(self):
        """The same record made by numba's JIT (:class:`~issim.physics.frame_kernel.FrameArgs`)."""
        if self._jit is None:
            self._jit = kernel("frame_args").jit(*self.parts)
        return self._jit

    def __del__(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            try:
                release(int(self))
            except Exception:  # (at the interpreter's exit, the module may be gone first)
                pass


def jit_args(args: tuple) -> tuple:
    """``args`` with each :class:`FrameHandle` replaced by numba's record of the same."""
    if any(type(x) is FrameHandle for x in args):
        return tuple(x.jit_record() if type(x) is FrameHandle else x for x in args)
    return args


# ---------------------------------------------------------------------------- kernels

class Kernel:
    """One kernel: called as the function, it runs the built function for the call's
    argument types (:meth:`ahead`), else numba's JIT (:attr:`jit`)."""

    __slots__ = ("name", "_built", "_jit")

    def __init__(self, name: str, built: dict):
        self.name = name
        self._built = built  # type_key of the arguments -> the built function
        self._jit = None

    @classmethod
    def of(cls, dispatcher) -> "Kernel":
        """A kernel that is only ``dispatcher`` (numba's JIT of some compiled function)."""
        k = cls(getattr(dispatcher, "__name__", "kernel"), {})
        k._jit = dispatcher
        return k

    @property
    def jit(self):
        """numba's dispatcher of the kernel (importing numba, and compiling or loading it)."""
        if self._jit is None:
            self._jit = getattr(importlib.import_module(DEFINED[self.name]), self.name)
            for hook in _ON_JIT:
                hook()
        return self._jit

    @property
    def built(self) -> bool:
        """Whether the built module has this kernel for some argument types."""
        return bool(self._built)

    def ahead(self, args: tuple) -> Optional[Callable]:
        """The built function for arguments of the types of ``args``, or None."""
        if not self._built:
            return None
        return self._built.get(type_key(args)[1:])

    def __call__(self, *args):
        f = self.ahead(args)
        if f is not None:
            return f(*args)
        return self.jit(*jit_args(args))

    def __repr__(self) -> str:
        return f"<kernel {self.name}: {'built' if self._built else 'JIT'}>"


_KERNELS: dict[str, Kernel] = {}
_ON_JIT: list = []  # called when a kernel first turns to numba's JIT (issim.sim.compiled.CompileClock)
_LOADED: Optional[tuple] = None  # (the built functions by kernel, why not) once looked at


def kernel(name: str) -> Kernel:
    """The kernel ``name`` (one of :data:`DEFINED`), one per process."""
    k = _KERNELS.get(name)
    if k is None:
        if name not in DEFINED:
            raise KeyError(f"no kernel {name!r}")
        k = _KERNELS[name] = Kernel(name, _built().get(name, {}))
    return k


def sources_digest() -> str:
    """The digest of :data:`SOURCES`, of the versions the built module depends on (Python,
    numpy, numba) and of the processor it was compiled for: what the build wrote, and what a
    run compares."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for rel in SOURCES:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    try:
        numba_version = version("numba")
    except PackageNotFoundError:
        numba_version = "none"
    h.update(f"{sys.implementation.cache_tag} {np.__version__} {numba_version} {_cpu()}".encode())
    return h.hexdigest()


def _cpu() -> str:
    """This machine's processor, as the built module was compiled for it (``target_cpu="host"``):
    a module built on another may use instructions this one lacks."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            lines = [line for line in f if line.startswith(("model name", "flags"))][:2]
        return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]
    except OSError:
        return f"{platform.machine()} {platform.processor()}"


def status() -> str:
    """Whether runs use the built module, in one line for people."""
    built = _built()
    if built:
        n = sum(len(v) for v in built.values())
        return f"built ahead of time ({n} compiled functions in {MODULE})"
    return f"numba's JIT: {_LOADED[1]}"


def why_jit() -> str:
    """Why a kernel turned to numba's JIT, for people ("" when asked to, ``ISSIM_KERNELS=jit``)."""
    built, why = _built(), _LOADED[1]
    if built:
        return "arguments of types the build did not see"
    return "" if why.startswith(ENV) else why


def _built() -> dict:
    global _LOADED
    if _LOADED is None:
        _LOADED = _load()
    return _LOADED[0]


BUILD = "python -m issim.aot, or make kernels"  # how to build them


def _load(env: bool = True) -> tuple[dict, str]:
    """``(the built functions, by kernel and argument types; why none, when none)``; ``env``:
    heeding :data:`ENV` (the build's own check of staleness does not)."""
    if env and os.environ.get(ENV, "").strip().lower() == "jit":
        return {}, f"{ENV}=jit"
    if not MANIFEST.exists():
        return {}, f"nothing built ahead of time ({BUILD})"
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return {}, f"{MANIFEST.name} cannot be read ({BUILD})"
    if manifest.get("digest") != sources_digest():
        return {}, f"the built kernels are stale: a kernel's source, a version or the processor changed ({BUILD})"
    try:
        module = importlib.import_module(MODULE)
        built: dict[str, dict] = {}
        for name, key, export, kind in manifest["entries"]:
            f = getattr(module, export)
            if kind is not None:  # a record made: handed out as a handle, released with it
                f = _handing_out(f, kind, getattr(module, f"release_{kind}"))
            built.setdefault(name, {})[ast.literal_eval(key)] = f
    except (ImportError, AttributeError, KeyError, ValueError, SyntaxError) as e:
        return {}, f"the built module does not match its manifest ({type(e).__name__}: {e}; {BUILD})"
    return built, ""


def _handing_out(make: Callable, kind: int, release: Callable) -> Callable:
    def frame_args(*parts):
        return FrameHandle(make(*parts), kind, parts, release)

    return frame_args
