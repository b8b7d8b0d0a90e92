"""MCP: pipekit's OpenShift and Slack MCP servers, and the client that turns any MCP server's
tools into agent tools.

Kept light on purpose: import `pipekit.mcp.client`, `.openshift` or `.slack` for what you need
(the kubernetes and slack_sdk clients load only with their servers).
"""
