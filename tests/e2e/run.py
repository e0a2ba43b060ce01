#!/usr/bin/env python3
"""Black-box test runner: every tests/e2e/test_*.py module, every test_*
function in it. A module may define setup() returning a context passed to
each test and teardown(ctx). A test that raises xenith_client.Skip is
NOT RUN, never counted as passed. Prints 'N passed, N failed, N not run';
exit 1 on any failure or when nothing ran. `run.py test_health` runs one module."""
import importlib
import os
import sys
import time
import traceback

from xenith_client import Skip

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    only = sys.argv[1:]
    mods = sorted(f[:-3] for f in os.listdir(HERE)
                  if f.startswith("test_") and f.endswith(".py"))
    if only:
        mods = [m for m in mods if m in only]
    passed = failed = not_run = 0
    for name in mods:
        mod = importlib.import_module(name)
        tests = [getattr(mod, t) for t in sorted(dir(mod)) if t.startswith("test_")]
        ctx = None
        try:
            ctx = mod.setup() if hasattr(mod, "setup") else None
        except Exception:
            print("FAIL %s.setup" % name)
            traceback.print_exc()
            failed += len(tests) or 1
            continue
        for t in tests:
            t0 = time.time()
            try:
                t(ctx)
                passed += 1
                print("PASS %s.%s (%.2fs)" % (name, t.__name__, time.time() - t0))
            except Skip as e:
                not_run += 1
                print("NOT RUN %s.%s: %s" % (name, t.__name__, e))
            except Exception:
                failed += 1
                print("FAIL %s.%s" % (name, t.__name__))
                traceback.print_exc()
        if hasattr(mod, "teardown"):
            try:
                mod.teardown(ctx)
            except Exception:
                traceback.print_exc()
                failed += 1
    print("e2e: %d passed, %d failed, %d not run" % (passed, failed, not_run))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
