"""Feeds in: fetching (`fetcher`, httpx, the private-address guard), parsing (`parser`, feedparser), the one
HTML-to-text (`text`), item identity (`identity`) and the backoff of a failing feed (`backoff`)."""
