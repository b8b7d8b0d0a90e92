"""Fakes of outside services that speak their real wire protocol, and a serve subprocess."""
