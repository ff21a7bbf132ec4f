"""The embedded reference deployment of the Anki Compendium API.

A real service built from the contract (``shared/contract/anki-compendium-api.md``):
FastAPI, SQLite, JWT auth with the auth rate limit, a background worker that
turns an uploaded PDF's text into flashcards and writes a real ``.apkg`` with
genanki, signed expiring download links, security headers, ``/metrics``.

It is the demo target (``deploycheck serve``) and the test target: named
faults (:mod:`.faults`) make it fail in the ways real deployments do.

Nothing here is imported by the pytest plugin: the plugin starts it in its own
process (:mod:`pytest_deploycheck.run.embedded`).
"""
