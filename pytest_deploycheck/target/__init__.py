"""Drivers of the target's API: signing up and in, the upload -> job -> deck journey, the
sample PDF. They import only the run's client, its expectations and its pacing; checks,
fixtures, the journey ahead and the load users are built on them."""
