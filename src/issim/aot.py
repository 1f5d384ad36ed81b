"""The kernels built ahead of time: ``python -m issim.aot`` (``make kernels``, run by ``make setup``).

A run that loads its kernels through numba brings LLVM into the process (see
:mod:`issim.sim.kernels`). This builds them once, with numba's ahead-of-time compiler
(``numba.pycc``), into the extension module ``issim._kernels`` beside the package, and
writes ``issim/_kernels.json``: the digest of the sources compiled and, for each function
in the module, the kernel it is and the argument types it takes.

Which argument types: those the kernels are called with. The build runs every bundled
scenario (a simulated day of each, stored into a folder of its own that it removes)
through numba's JIT, then compiles each kernel for each signature numba compiled for it.
A call with types no run of the build made goes to numba's JIT; so does everything when
the build cannot be made (no C compiler, a numba without ``pycc``): runs are then as they
were, LLVM included.

numba's record of a frame's arrays (:class:`~issim.physics.frame_kernel.FrameArgs`) cannot
cross into Python from a built module, so ``frame_args`` is built as "make the record and
hold it" (an address: :func:`~issim.physics.frame_kernel.hold`), and the kernels that read
the record take that address (:func:`~issim.physics.frame_kernel.held`), one set of them per
type of record; ``release_<kind>`` gives the reference back.

The files appear whole or not at all: the manifest is removed before the module is
replaced, and written (by rename) after.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

from .sim import kernels

# the kernels that take numba's record first (built to take its address instead)
READ_RECORD = ("physics_frame", "quiet_frames")
MAX_DAYS = 1.0


def collect(progress: Callable[[str], None] = lambda line: None) -> dict:
    """``{kernel: [numba signature, ...]}``: what the bundled scenarios call each kernel with,
    run through numba's JIT (compiling what its cache does not hold)."""
    from .runner import Runner
    from .scenario.load import bundled_names, load_scenario

    saved = kernels._LOADED, dict(kernels._KERNELS)
    kernels._LOADED, kernels._KERNELS = ({}, "building"), {}  # (numba's JIT for every call)
    folder = tempfile.mkdtemp(prefix="issim-kernels-")
    try:
        for name in bundled_names():
            spec = load_scenario(name)
            days = min(MAX_DAYS, (spec.default_end_ms - spec.start_ms) / 86_400_000)
            progress(f"running {name} ({days:g} day{'s' * (days != 1)}) for the kernels' argument types")
            Runner(spec, seed=1, days=days).store(folder)
        found = {}
        for name, k in kernels._KERNELS.items():
            if k._jit is not None:
                found[name] = list(k._jit.nopython_signatures)
        return found
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        kernels._LOADED, kernels._KERNELS = saved[0], saved[1]


def _wrapper(call: Callable, n: int, *, hold=None, record_type=None, release=None) -> Callable:
    """A plain function of ``n`` arguments (numba's compiler builds a plain function's body
    with the signature exported) calling ``call`` with them: its answer held
    (``hold``), or its first argument a held record's address read as ``record_type``; or,
    with ``release``, giving back the reference held at its one argument."""
    names = [f"a{i}" for i in range(n)]
    if release is not None:
        body = "release(a0, record_type)"
    elif record_type is not None:
        body = f"return call({', '.join(['held(a0, record_type)'] + names[1:])})"
    elif hold is not None:
        body = f"return hold(call({', '.join(names)}))"
    else:
        body = f"return call({', '.join(names)})"
    from .physics.frame_kernel import held

    scope = {"call": call, "hold": hold, "held": held, "release": release, "record_type": record_type}
    exec(f"def kernel({', '.join(names)}):\n    {body}\n", scope)
    return scope["kernel"]


def build(progress: Callable[[str], None] = lambda line: None) -> dict:
    """Build the module and write its manifest (see the module); returns the manifest."""
    import json

    from numba import types
    from numba.core import errors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.NumbaPendingDeprecationWarning)
        from numba.pycc import CC

    from .physics.frame_kernel import FrameArgsType, hold, release

    digest = kernels.sources_digest()  # (of the sources as they are imported and compiled now)
    found = collect(progress)
    package = Path(kernels.__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix=".kernels-", dir=package))
    try:
        cc = CC(kernels.MODULE.rsplit(".", 1)[1], source_module=__name__)
        cc.output_dir = str(work)
        cc.target_cpu = "host"  # (as numba's JIT compiles: the same instructions)
        entries = []
        records: list = []  # the record types, each its kind
        for sig in found.get("frame_args", []):
            record = sig.return_type
            if not isinstance(record, FrameArgsType) or record in records or None in map(_key, sig.args):
                continue  # (a record type met once is built once)
            kind = len(records)
            records.append(record)
            dispatcher = kernels.kernel("frame_args").jit
            cc.export(f"frame_args_{kind}", types.int64(*sig.args))(_wrapper(dispatcher, len(sig.args), hold=hold))
            entries.append(["frame_args", repr(tuple(map(_key, sig.args))), f"frame_args_{kind}", kind])
            cc.export(f"release_{kind}", types.void(types.int64))(
                _wrapper(None, 1, record_type=types.TypeRef(record), release=release))
        for name, signatures in found.items():
            if name == "frame_args":
                continue
            dispatcher = kernels.kernel(name).jit
            for j, sig in enumerate(signatures):
                args = list(sig.args)
                export = f"{name}_{j}"
                key = tuple(map(_key, args))
                if name in READ_RECORD and args[0] in records:  # (the record first: its address, a handle's)
                    key = (("h", records.index(args[0])),) + key[1:]
                    fn = _wrapper(dispatcher, len(args), record_type=types.TypeRef(args[0]))
                    args[0] = types.int64
                else:
                    fn = _wrapper(dispatcher, len(args))
                if None in key:  # (a type this does not build for: such calls go to numba's JIT)
                    progress(f"not built: {name} for {sig.args}")
                    continue
                cc.export(export, sig.return_type(*args))(fn)
                entries.append([name, repr(key), export, None])
        progress(f"compiling {len(entries)} kernel functions ahead of time")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.NumbaPendingDeprecationWarning)
            cc.compile()
        built = [p for p in work.iterdir() if p.name.startswith(cc.name) and p.suffix in (".so", ".pyd")]
        if len(built) != 1:
            raise RuntimeError(f"numba's compiler left {len(built)} modules, not one")
        if kernels.sources_digest() != digest:
            raise RuntimeError("a kernel's source changed while it was built: build again")
        manifest = {"digest": digest, "entries": entries}
        kernels.MANIFEST.unlink(missing_ok=True)  # (no manifest: runs use numba's JIT meanwhile)
        os.replace(built[0], package / built[0].name)
        tmp = work / kernels.MANIFEST.name
        tmp.write_text(json.dumps(manifest, indent=1) + "\n")
        os.replace(tmp, kernels.MANIFEST)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _compiler() -> None:
    """Fail at once, in one line, when there is no C compiler to link the module with."""
    import shlex

    cc = (shlex.split(os.environ.get("CC", "")) or ["cc"])[0]
    if shutil.which(cc) is None:
        raise RuntimeError(f"no C compiler ({cc}) to build them with: install one (Debian: apt install gcc)")


def _key(t):
    """:func:`issim.sim.kernels.type_key` of a value numba types as ``t``; None for a type
    it has no key for (its calls go to numba's JIT). A held record's key is the caller's to
    give (it is built only as the first argument of :data:`READ_RECORD`'s kernels)."""
    import numpy as np
    from numba import types

    if isinstance(t, types.Array):
        try:
            return ("a", np.dtype(str(t.dtype)).str, t.ndim, t.layout, t.mutable, t.aligned)
        except TypeError:  # (a dtype numpy does not name so: not built)
            return None
    if isinstance(t, types.BaseTuple):
        items = tuple(map(_key, t.types))
        return None if None in items else ("t", *items)
    if isinstance(t, types.Boolean):
        return "b"
    if t == types.int64:
        return "i"
    if t == types.float64:
        return "f"
    return None


USAGE = "usage: python -m issim.aot [--if-stale]"


def main(argv: list[str]) -> int:
    """``python -m issim.aot [--if-stale]``: build (only when the built module is missing or
    stale, with ``--if-stale``); 0 when runs will use the built module."""
    if argv in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{__doc__.splitlines()[0]}\n--if-stale: only when the built kernels are missing or stale")
        return 0
    wrong = [a for a in argv if a != "--if-stale"]
    if wrong or len(argv) > 1:
        print(f"python -m issim.aot: error: {(wrong or argv)[0]}: not an option ({USAGE})", file=sys.stderr)
        return 2
    import fcntl

    try:
        lock = open(kernels.MANIFEST.parent / ".kernels.lock", "w")  # (one build at a time: another waits)
    except OSError as e:
        print(f"the kernels were not built ahead of time ({e.strerror}: {e.filename}); runs use numba's JIT",
              file=sys.stderr)
        return 1
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_now(stale_only=bool(argv))


def _build_now(stale_only: bool) -> int:
    if stale_only and kernels._load(env=False)[0]:
        print(f"the kernels built ahead of time are up to date ({kernels.MODULE})", file=sys.stderr)
        return 0
    started = time.perf_counter()
    try:
        _compiler()
        manifest = build(progress=lambda line: print(f"  {line}", file=sys.stderr))
    except Exception as e:  # (any failure: runs use numba's JIT, as before)
        first = (str(e).strip().splitlines() or [""])[0]
        print(f"the kernels were not built ahead of time ({type(e).__name__}: {first}); runs use numba's JIT",
              file=sys.stderr)
        return 1
    print(f"built {len(manifest['entries'])} kernel functions ahead of time in {time.perf_counter() - started:.1f} s "
          f"({kernels.MODULE})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
