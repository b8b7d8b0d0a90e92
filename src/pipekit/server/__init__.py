"""Running and securing the upstream pipelines server."""
