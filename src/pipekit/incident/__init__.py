"""The incident agent: investigate with MCP tools, approve writes with one-time codes, audit.

`IncidentPipe` is the pipe (pipelines/incident_agent.py is its thin script); `approvals`
keeps pending actions and codes, `audit` the JSONL log of every call.
"""

from .approvals import ApprovalStore, PendingAction, parse_command
from .audit import AuditLog, mask_value
from .pipe import IncidentPipe

__all__ = [
    "ApprovalStore",
    "AuditLog",
    "IncidentPipe",
    "PendingAction",
    "mask_value",
    "parse_command",
]
