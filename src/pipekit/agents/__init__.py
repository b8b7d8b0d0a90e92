"""Agents: the tool-calling loop, typed tools, web search and the tool-output firewall."""
