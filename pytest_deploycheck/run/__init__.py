"""The run's machinery: the recorded, bounded HTTP client, what answers are expected to be, the shared store, pacing, redaction, the embedded deployment's lifecycle."""
