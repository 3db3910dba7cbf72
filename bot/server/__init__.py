"""The agent console web app: pages, JSON API and WebSockets over the suggestion engine."""
