"""Leak check for the Python module's tests in the AddressSanitizer build.

The ctest of the sanitizer build puts this folder first on PYTHONPATH, so every Python process a
test starts (children too) imports it at start-up. The interpreter is not instrumented, so ctest
also preloads the sanitizer's runtime (LD_PRELOAD, with libstdc++ for its exception hooks) and
sets PYTHONMALLOC=malloc, so that every Python object is an allocation LeakSanitizer can see.

Two choices make the check about sibsim rather than about Python or NumPy:
- NumPy (and pandas, when installed) are imported here with LeakSanitizer switched off on this
  thread: their import keeps allocations that LeakSanitizer cannot trace to a root, which are
  theirs, made once, and no concern of ours.
- The check runs at exit, before the interpreter tears itself down (an atexit hook, run after
  every other one), so only memory that nothing alive can reach counts as a leak: a C++ object
  of the module never freed, or a Python object whose reference count the module left too high.
Any leak ends the process with LeakSanitizer's report and exit status 23."""
import atexit
import ctypes

_runtime = ctypes.CDLL(None)
if not hasattr(_runtime, "__lsan_do_leak_check"):
    raise RuntimeError("tests/python/leakcheck needs the sanitizer's runtime preloaded "
                       "(LD_PRELOAD=$(gcc -print-file-name=libasan.so))")

_runtime.__lsan_disable()
try:
    import numpy  # noqa: F401
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
finally:
    _runtime.__lsan_enable()

atexit.register(_runtime.__lsan_do_leak_check)
