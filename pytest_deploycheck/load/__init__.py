"""Load profiles with enforced success criteria, on Locust.

Nothing here imports locust except :mod:`.locust_plugin`, which only a
locustfile imports: gevent's monkey-patching must never reach a pytest run
(the pytest entry runs Locust in its own process, :mod:`.run`).
"""
