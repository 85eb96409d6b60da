"""The application fixer, table-driven: exceptions and their app frames, panics, OOM, hangs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain

D = Domain.APPLICATION

PY_KEYERROR = """ERROR in app: Exception on /api/v1/checkout [POST]
Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/flask/app.py", line 917, in full_dispatch_request
    rv = self.dispatch_request()
  File "/srv/shop/app.py", line 21, in checkout
    shipping = SHIPPING_RATES[country]
               ~~~~~~~~~~~~~~^^^^^^^^^
KeyError: 'CH'"""

JAVA_NPE = """Unhandled exception processing GET /orders/quote?customer=C51
java.lang.NullPointerException: Cannot invoke "Shop$Customer.getTier()" because "c" is null
\tat com.acme.pricing.PricingEngine.discountFor(PricingEngine.java:22)
\tat com.acme.pricing.PricingEngine.quote(PricingEngine.java:14)
\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)"""

GO_PANIC = """panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x10 pc=0x612e23]

goroutine 5 [running]:
main.(*Reconciler).apply(...)
\t/src/inventory/main.go:40
main.(*Reconciler).run(0xc000016c30, 0x0?)
\t/src/inventory/main.go:48 +0xc3"""

NODE_TYPEERROR = """/srv/notify/server.js:34
    const to = user.profile.email;
                            ^

TypeError: Cannot read properties of undefined (reading 'email')
    at digestFor (/srv/notify/server.js:34:29)
    at Server.<anonymous> (/srv/notify/server.js:61:20)
    at Server.emit (node:events:517:28)"""

GUNICORN_ABORT = """[6835] [ERROR] Error handling request POST /api/v1/signup
Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 141, in handle
    self.handle_request(listener, req, client, addr)
  File "/srv/signup/app.py", line 19, in signup
    if not USERNAME_RE.match(username):
  File "/srv/venv/lib/python3.11/site-packages/gunicorn/workers/base.py", line 200, in handle_abort
    sys.exit(1)
SystemExit: 1"""

PY_RECURSION = """Unhandled error building breadcrumb for category 4
Traceback (most recent call last):
  File "/srv/catalog/api.py", line 38, in do_GET
    path = breadcrumb(int(parts[1]))
  File "/srv/catalog/api.py", line 18, in breadcrumb
    return breadcrumb(CATEGORIES[cid]["parent"]) + [cid]
  [Previous line repeated 996 more times]
RecursionError: maximum recursion depth exceeded"""

CASES = [
    Case(
        "python-keyerror-top-app-frame",
        [PY_KEYERROR],
        counts=[14],
        problem="unhandled-exception",
        facts={
            "exception": "KeyError",
            "app_frame": "checkout",
            "app_location": "app.py:21",
            "lookup": "SHIPPING_RATES[country]",
            "missing_keys": ["'CH'"],
        },
        says=["KeyError: 'CH'", "SHIPPING_RATES[country]", "checkout"],
        supported="no entry for 'CH'",
    ),
    Case(
        "java-npe-skips-jdk-frames",
        [JAVA_NPE],
        counts=[18],
        problem="unhandled-exception",
        facts={
            "exception": "java.lang.NullPointerException",
            "app_frame": "PricingEngine.discountFor",
            "app_location": "PricingEngine.java:22",
        },
        says=["getTier", "PricingEngine.discountFor"],
        supported="missing value is dereferenced",
    ),
    Case(
        "go-nil-pointer-panic",
        [GO_PANIC],
        counts=[2],
        problem="unhandled-exception",
        facts={"app_frame": "main.(*Reconciler).apply", "app_location": "main.go:40"},
        says=["nil pointer dereference", "Reconciler"],
        supported="missing value is dereferenced",
    ),
    Case(
        "node-typeerror-crash-loop",
        [
            NODE_TYPEERROR,
            "ERROR [primary pid=7962] worker 7971 died unexpectedly (code=1); restarting",
        ],
        counts=[6, 6],
        problem="unhandled-exception",
        facts={"exception": "TypeError", "app_frame": "digestFor", "crashes": 6},
        says=["user.profile.email", "reading 'email'", "crash loop"],
        supported="missing value is dereferenced",
    ),
    Case(
        "gunicorn-timeout-in-regex",
        [
            "[6833] [CRITICAL] WORKER TIMEOUT (pid:6834)",
            GUNICORN_ABORT,
            "[6833] [ERROR] Worker (pid:6834) was sent SIGKILL! Perhaps out of memory?",
        ],
        counts=[3, 3, 1],
        problem="worker-timeout",
        facts={"worker_timeouts": 3, "app_frame": "signup", "blocked_in_regex": True},
        says=["WORKER TIMEOUT", "USERNAME_RE.match", "backtracking"],
        supported="regular expression",
        ruled_out="slow dependency",
    ),
    Case(
        "python-recursion-cycle",
        [PY_RECURSION],
        counts=[7],
        problem="recursion",
        facts={"exception": "RecursionError"},
        says=["RecursionError", "breadcrumb", "cycle"],
        supported="never reaches its base case",
    ),
    Case(
        "java-heap-oom-cache",
        [
            "processed=7600 events, cached_sessions=7600, heap_used=14606KB/16384KB",
            "java.lang.OutOfMemoryError: Java heap space",
            "[12.1s][info][gc] GC(41) Pause Full (G1 Compaction Pause) 15M->15M(16M) 40.1ms",
            "[12.3s][info][gc] GC(42) Pause Full (G1 Compaction Pause) 15M->15M(16M) 41.7ms",
        ],
        problem="out-of-memory",
        facts={"heap_used": "14606KB", "heap_max": "16384KB", "full_gcs": 2},
        says=["OutOfMemoryError", "cache", "leak"],
        supported="unbounded in-process cache",
        ruled_out="heap limit",
    ),
    Case(
        "java-thread-deadlock",
        [
            "Found one Java-level "
            'deadlock:\n=============================\n"http-1":\n  waiting to '
            "lock monitor 0x00007fc0a40341b0 (object "
            "0x00000000ff700840, a Ledger$Account),\n  which is "
            'held by "http-4"\n\n"http-4":\n  waiting to lock monitor 0x00007fc0ac003ab0 (object '
            '0x00000000ff7089d8, a Ledger$Account),\n  which is held by "http-1"',
        ],
        problem="thread-deadlock",
        facts={"deadlock_threads": ["http-1", "http-4"], "lock_class": "Ledger$Account"},
        says=["deadlock", "lock order"],
        supported="lock ordering",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_fit_prefers_application_evidence() -> None:
    fixer = fixers()[D]
    assert fixer.can_handle(CASES[0].incident()) > 0.7
    assert fixer.can_handle(incident_from_lines(["Failed password for root from 1.2.3.4"])) < 0.3
