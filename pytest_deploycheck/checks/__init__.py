"""What is checked: health, decks, security (headers, exposure, TLS)."""
