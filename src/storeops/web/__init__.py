"""The web app: server-rendered pages for people and the REST API, on FastAPI."""
