#!/usr/bin/env python3
"""Run the black-box tests of xenith-backup: every test_* function of
every tests/backup/test_*.py (or the modules named on the command line).
Each test gets a fresh temporary directory. A test that raises
bkutil.Skip is NOT RUN, never counted as passed; exit 1 on any failure
or when nothing passed. Stdlib only."""
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bkutil import Skip  # noqa: E402


def main():
    names = sys.argv[1:] or sorted(
        f[:-3] for f in os.listdir(HERE)
        if f.startswith("test_") and f.endswith(".py"))
    passed = failed = not_run = 0
    t0 = time.time()
    for name in names:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(HERE, name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fn in sorted(n for n in dir(mod) if n.startswith("test_")):
            tmp = tempfile.mkdtemp(prefix="xbk-test-")
            start = time.time()
            try:
                getattr(mod, fn)(tmp)
                passed += 1
                print("PASS %s.%s (%.1fs)" % (name, fn, time.time() - start))
            except Skip as e:
                not_run += 1
                print("NOT RUN %s.%s: %s" % (name, fn, e))
            except Exception:
                failed += 1
                print("FAIL %s.%s" % (name, fn))
                traceback.print_exc()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    print("backup: %d passed, %d failed, %d not run in %.0fs"
          % (passed, failed, not_run, time.time() - t0))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
