"""Load profiles with enforced success criteria, on Locust.

    criteria       k6-style criteria ("p95 < 500ms") parsed and judged
    stats          exact HDR statistics, merged across Locust workers
    profiles       smoke, baseline, stress, spike, soak
    report         the verdict as it crosses from Locust to pytest (one typed class)
    run            running Locust in its own process for pytest
    locust/        the Locust side: state, events, shape, users

Only :mod:`.locust` imports locust, and only a locustfile imports it:
gevent's monkey-patching must never reach a pytest run.
"""
