"""End-to-end tests: real Open WebUI, `pipekit serve`, headless Chromium."""
